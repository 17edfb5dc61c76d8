import type { Trx } from '../db/knex';

/**
 * Session rows are written by connect-pg-simple; these are the few statements the app itself
 * needs on them. The session tables hold no row-level security (a session is read before any
 * scope is known), so the workspace is matched on the session's own record of it.
 */
export async function deletePortalSessionsOf(trx: Trx, workspaceId: string): Promise<number> {
  return trx('portal_sessions').whereRaw(`sess->>'workspaceId' = ?`, [workspaceId]).delete();
}

export type SessionTable = 'portal_sessions' | 'admin_sessions';

/** Sessions past their expiry (connect-pg-simple keeps `expire` as a timestamp without zone). */
export async function deleteExpired(trx: Trx, table: SessionTable, now: Date): Promise<number> {
  return trx(table)
    .whereRaw('expire < to_timestamp(?)', [now.getTime() / 1000])
    .delete();
}

/** Erasure: ends every portal session of one requester (each also holds their address). */
export async function deletePortalSessionsOfRequester(
  trx: Trx,
  workspaceId: string,
  requesterId: string,
): Promise<number> {
  return trx('portal_sessions')
    .whereRaw(`sess->>'workspaceId' = ? and sess->>'requesterId' = ?`, [workspaceId, requesterId])
    .delete();
}
