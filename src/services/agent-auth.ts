import type { Trx } from '../db/knex';
import * as users from '../models/users';
import type { User } from '../models/users';
import { hashPassword, verifyPassword } from './passwords';

// An unknown address is checked against this hash, so it costs the same time as a wrong password.
let decoyHash: Promise<string> | undefined;

/** The user for this address and password, or undefined; runs in a `signin` scope. */
export async function authenticate(
  trx: Trx,
  input: { workspaceId: string; email: string; password: string },
): Promise<User | undefined> {
  const found = await users.findCredentials(trx, input.workspaceId, input.email);
  decoyHash ??= hashPassword('decoy password for unknown addresses');
  const ok = await verifyPassword(input.password, found?.passwordHash ?? (await decoyHash));
  return found && ok ? found.user : undefined;
}
