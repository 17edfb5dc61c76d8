import { z } from 'zod';
import type { FieldLimits } from '../config';
import type { Trx } from '../db/knex';
import { ValidationError } from '../errors';
import * as users from '../models/users';
import type { User, UserRole } from '../models/users';
import type { Workspace } from '../models/workspaces';
import { emailField, textField } from '../validation/fields';
import { recordEvent, systemActor, type AuditContext } from './audit-trail';
import { hashPassword } from './passwords';
import { requireWorkspace } from './workspaces';

export const MIN_PASSWORD_LENGTH = 12;
// scrypt hashes any length, but nobody types more; the cap keeps hashing cheap to ask for.
const MAX_PASSWORD_LENGTH = 1024;

function newUserSchema(limits: Pick<FieldLimits, 'email' | 'name'>) {
  return z.object({
    email: emailField(limits.email),
    name: textField(limits.name, { missing: 'Enter a name', label: 'Name' }),
    role: z.enum(['admin', 'agent'], { error: 'Role must be admin or agent' }),
    password: z
      .string({ error: 'Enter a password' })
      .min(MIN_PASSWORD_LENGTH, `Password must be at least ${MIN_PASSWORD_LENGTH} characters`)
      .max(MAX_PASSWORD_LENGTH, `Password must be ${MAX_PASSWORD_LENGTH} characters or fewer`),
  });
}

/**
 * Creates an account for the agent app: the address follows the portal's strict rule (stored in
 * lower case), the password is stored only as an scrypt hash, and an address is one account per
 * workspace. Rule violations throw a ValidationError naming the field.
 */
/**
 * Adds a user and records who added them in the audit trail (the role and name, never the
 * password or its hash). Undefined, and nothing recorded, when the address already has an account.
 */
export async function addUser(
  trx: Trx,
  ctx: AuditContext,
  input: { email: string; name: string; role: UserRole; passwordHash: string },
): Promise<User | undefined> {
  const user = await users.insert(trx, { workspaceId: ctx.workspaceId, ...input });
  if (user) {
    await recordEvent(trx, ctx, {
      action: 'user.created',
      subject: { id: user.id, label: user.email },
      details: { role: user.role, name: user.name },
    });
  }
  return user;
}

export async function createUserAccount(
  trx: Trx,
  limits: Pick<FieldLimits, 'email' | 'name'>,
  input: { workspaceSlug: string; email: string; name: string; role: string; password: string },
  at: Date,
): Promise<{ user: User; workspace: Workspace }> {
  const parsed = newUserSchema(limits).safeParse(input);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new ValidationError(
      String(issue?.path[0] ?? 'form'),
      issue?.message ?? 'Invalid account',
    );
  }
  const { email, name, role, password } = parsed.data;
  const workspace = await requireWorkspace(trx, input.workspaceSlug);
  const user = await addUser(
    trx,
    { workspaceId: workspace.id, actor: systemActor, ip: null, at },
    { email, name, role, passwordHash: await hashPassword(password) },
  );
  if (!user) {
    throw new ValidationError(
      'email',
      `${email} already has an account in workspace ${workspace.slug}`,
    );
  }
  return { user, workspace };
}
