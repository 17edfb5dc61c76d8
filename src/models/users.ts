import type { Trx } from '../db/knex';

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
  return { id: row.id, workspaceId: row.workspace_id, email: row.email, name: row.name, role: row.role };
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
