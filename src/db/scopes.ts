import type { Db, Trx } from './knex';
import { DEFER } from './deferred-statements';
import { queryRows } from './statements';
import { inTransaction } from './transactions';

/**
 * Who a unit of work runs as. PostgreSQL row-level security policies read these
 * transaction-local settings, so a query that forgets a `where` still sees only its rows.
 */
export type Scope =
  | { kind: 'system' }
  | { kind: 'agent'; workspaceId: string; userId: string }
  | { kind: 'signin'; workspaceId: string }
  | { kind: 'requester'; workspaceId: string; requesterId: string }
  | { kind: 'visitor'; workspaceId: string; ticketIds: readonly string[] };

/** The five settings a scope stands for, as the policies read them. */
export interface ScopeSettings {
  scope: string;
  workspaceId: string;
  requesterId: string;
  ticketIds: string;
  /** The signed-in agent: the audit trail's policy lets only a current admin read it. */
  userId: string;
}

export function scopeSettings(scope: Scope): ScopeSettings {
  return {
    scope: scope.kind,
    workspaceId: scope.kind === 'system' ? '' : scope.workspaceId,
    requesterId: scope.kind === 'requester' ? scope.requesterId : '',
    ticketIds: scope.kind === 'visitor' ? `{${scope.ticketIds.join(',')}}` : '{}',
    userId: scope.kind === 'agent' ? scope.userId : '',
  };
}

export function sameScope(a: Scope, b: Scope): boolean {
  const x = scopeSettings(a);
  const y = scopeSettings(b);
  return (
    x.scope === y.scope &&
    x.workspaceId === y.workspaceId &&
    x.requesterId === y.requesterId &&
    x.ticketIds === y.ticketIds &&
    x.userId === y.userId
  );
}

/** Sets the scope for the rest of the transaction; `true` makes every setting transaction-local. */
export async function applyScope(trx: Trx, scope: Scope): Promise<void> {
  const s = scopeSettings(scope);
  // Sent with the transaction's next statement, in the same round trip (deferred-statements.ts).
  await queryRows(trx, SET_SCOPE, [s.scope, s.workspaceId, s.requesterId, s.ticketIds, s.userId]);
}

const SET_SCOPE = `${DEFER}select set_config('app.scope', $1, true),
  set_config('app.workspace_id', $2, true), set_config('app.requester_id', $3, true),
  set_config('app.ticket_ids', $4, true), set_config('app.user_id', $5, true)`;

/** The only way code gets a transaction: one unit of work, one scope. */
export function withScope<T>(db: Db, scope: Scope, work: (trx: Trx) => Promise<T>): Promise<T> {
  return inTransaction(db, async (trx) => {
    await applyScope(trx, scope);
    return work(trx);
  });
}
