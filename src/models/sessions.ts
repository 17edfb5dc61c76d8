import type { Trx } from '../db/knex';

/**
 * Session rows are written by connect-pg-simple; these are the few statements the app itself
 * needs on them. The session tables hold no row-level security (a session is read before any
 * scope is known), so the workspace is matched on the session's own record of it.
 */
export async function deletePortalSessionsOf(trx: Trx, workspaceId: string): Promise<number> {
  return trx('portal_sessions').whereRaw(`sess->>'workspaceId' = ?`, [workspaceId]).delete();
}
