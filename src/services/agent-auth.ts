import type { Trx } from '../db/knex';
import * as users from '../models/users';
import type { User } from '../models/users';
import { clientIp, recordEvent, userActor, visitorActor, type AuditContext } from './audit-trail';
import { hashPassword, verifyPassword } from './passwords';

// An unknown address is checked against this hash, so it costs the same time as a wrong password.
let decoyHash: Promise<string> | undefined;

/**
 * A sign-in attempt's outcome. `account` is the user the address belongs to, also when the
 * password was wrong: the audit trail (read by this workspace's admins only) names the account
 * tried. The person signing in is told neither.
 */
export type SignInOutcome = { ok: true; user: User } | { ok: false; account: User | undefined };

/**
 * Checks an address and password and records the attempt in the audit trail, in the same
 * transaction (a `signin` scope). A failed attempt is recorded without the address typed when it
 * is no user's: nobody's account was tried, and the trail keeps no text a stranger chose.
 */
export async function signInAgent(
  trx: Trx,
  input: {
    workspaceId: string;
    email: string;
    password: string;
    ip: string | undefined;
    at: Date;
  },
): Promise<SignInOutcome> {
  const found = await users.findCredentials(trx, input.workspaceId, input.email);
  decoyHash ??= hashPassword('decoy password for unknown addresses');
  const ok = await verifyPassword(input.password, found?.passwordHash ?? (await decoyHash));
  const ctx = { workspaceId: input.workspaceId, ip: clientIp(input.ip), at: input.at };
  if (found && ok) {
    await recordEvent(
      trx,
      { ...ctx, actor: userActor(found.user) },
      { action: 'agent.signin_succeeded' },
    );
    return { ok: true, user: found.user };
  }
  await recordEvent(
    trx,
    { ...ctx, actor: visitorActor() },
    found
      ? {
          action: 'agent.signin_failed',
          subject: { id: found.user.id, label: found.user.email },
          details: { reason: 'wrong password' },
        }
      : { action: 'agent.signin_failed', details: { reason: 'unknown address' } },
  );
  return { ok: false, account: found?.user };
}

/**
 * The failure that used up a rate limit's allowance: recorded once, when the lock begins, not for
 * each refused attempt after it (which would let anyone fill the trail at will).
 */
export function recordLockout(
  trx: Trx,
  ctx: Omit<AuditContext, 'actor'>,
  input: { account: User | undefined; limit: 'account' | 'ip' },
): Promise<void> {
  return recordEvent(
    trx,
    { ...ctx, actor: visitorActor() },
    {
      action: 'agent.locked_out',
      subject: input.account && { id: input.account.id, label: input.account.email },
      details: { limit: input.limit },
    },
  );
}
