import type { Trx } from '../db/knex';
import { rowByKey } from './statement-texts';

export type UserRole = 'admin' | 'agent';

export interface User {
  id: string;
  workspaceId: string;
  email: string;
  name: string;
  role: UserRole;
}

interface UserRow {
  id: string;
  workspace_id: string;
  email: string;
  name: string;
  role: UserRole;
}

const columns = ['id', 'workspace_id', 'email', 'name', 'role'];

function toUser(row: UserRow): User {
  return {
    id: row.id,
    workspaceId: row.workspace_id,
    email: row.email,
    name: row.name,
    role: row.role,
  };
}

/** Returns undefined when the address is already an account in this workspace. */
export async function insert(
  trx: Trx,
  input: { workspaceId: string; email: string; name: string; role: UserRole; passwordHash: string },
): Promise<User | undefined> {
  const [row] = await trx('users')
    .insert({
      workspace_id: input.workspaceId,
      email: input.email,
      name: input.name,
      role: input.role,
      password_hash: input.passwordHash,
    })
    .onConflict(['workspace_id', 'email'])
    .ignore()
    .returning<UserRow[]>(columns);
  return row ? toUser(row) : undefined;
}

/** The user and their stored hash, for password checks only; the hash never leaves services. */
export async function findCredentials(
  trx: Trx,
  workspaceId: string,
  email: string,
): Promise<{ user: User; passwordHash: string } | undefined> {
  const row = await trx('users')
    .select<(UserRow & { password_hash: string })[]>([...columns, 'password_hash'])
    .where({ workspace_id: workspaceId, email })
    .first<(UserRow & { password_hash: string }) | undefined>();
  return row ? { user: toUser(row), passwordHash: row.password_hash } : undefined;
}

// The agent, on every agent page.
const userById = rowByKey<UserRow>('users', columns, 'id');

export async function findById(
  trx: Trx,
  workspaceId: string,
  id: string,
): Promise<User | undefined> {
  const row = await userById(trx, workspaceId, id);
  return row ? toUser(row) : undefined;
}

export async function listByWorkspace(trx: Trx, workspaceId: string): Promise<User[]> {
  const rows = await trx('users')
    .select<UserRow[]>(columns)
    .where({ workspace_id: workspaceId })
    .orderBy([{ column: 'name' }, { column: 'email' }]);
  return rows.map(toUser);
}
