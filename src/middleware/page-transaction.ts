import type { Request, Response } from 'express';
import { depsOf } from '../deps';
import type { Trx } from '../db/knex';
import { applyScope, sameScope, withScope, type Scope } from '../db/scopes';
import { beginTransaction } from '../db/transactions';
import { HttpError } from '../errors';

/**
 * One scoped transaction a page. The tenant middleware opens it, setting the scope the session
 * claims in the same statement that reads the workspace; the viewer and the controller's data
 * then come through the same transaction, which `withPage` commits as soon as the controller's
 * work is done (before the response is rendered). A request that never gets that far (a page
 * without data, an error page) rolls it back when the response closes.
 */
interface PageTransaction {
  trx: Trx;
  scope: Scope | undefined;
  open: boolean;
}

declare module 'express-serve-static-core' {
  interface Locals {
    pageTransaction: PageTransaction | undefined;
  }
}

/** Starts the request's transaction, as yet without a scope: see setPageScope. */
export async function beginPage(req: Request, res: Response): Promise<Trx> {
  // Listen before waiting for a connection: a client that hangs up while the request queues for
  // one closes the response first, and the transaction must still be ended when it arrives.
  const state: { closed: boolean; page?: PageTransaction } = { closed: false };
  res.once('close', () => {
    state.closed = true;
    if (state.page?.open) void finish(req, state.page, false);
  });
  // A read writes nothing (#8): PostgreSQL holds every GET to that, and a read-only transaction's
  // end can travel with the connection's next statement (db/deferred-statements.ts).
  const readOnly = req.method === 'GET' || req.method === 'HEAD';
  const trx = await beginTransaction(depsOf(req).db, { readOnly });
  const page: PageTransaction = { trx, scope: undefined, open: true };
  state.page = page;
  res.locals.pageTransaction = page;
  if (state.closed) {
    await finish(req, page, false);
    throw new ClientGoneError();
  }
  return trx;
}

/**
 * The client went away before its request got a connection: nothing is left to answer. 499 is
 * the status proxies log for it; as a 4xx it is not reported as a fault of ours.
 */
class ClientGoneError extends HttpError {
  constructor() {
    super(499, 'client closed the connection before the page transaction began');
  }
}

async function finish(req: Request, page: PageTransaction, commit: boolean): Promise<void> {
  page.open = false;
  try {
    if (commit) await page.trx.commit();
    else await page.trx.rollback();
  } catch (error) {
    // A rollback after a lost connection has nothing left to undo; a failed commit is thrown.
    if (commit) throw error;
    depsOf(req).logger.warn({ err: error }, 'page transaction rollback failed');
  }
}

/** Records the scope the caller's statement set in the page transaction. */
export function setPageScope(res: Response, scope: Scope): void {
  const page = res.locals.pageTransaction;
  if (page?.open) page.scope = scope;
}

/** The open page transaction, for middleware that reads within it (the viewer). */
export function pageTransaction(res: Response): Trx {
  const page = res.locals.pageTransaction;
  if (!page?.open) throw new Error('no open page transaction (tenant middleware missing?)');
  return page.trx;
}

/**
 * Runs the controller's work in the page's transaction under `scope` (set again only if it
 * differs from the one in force), then commits. Work after that (a second call) gets a
 * transaction of its own. An error rolls the work back and is rethrown.
 */
export async function withPage<T>(
  req: Request,
  res: Response,
  scope: Scope,
  work: (trx: Trx) => Promise<T>,
): Promise<T> {
  const page = res.locals.pageTransaction;
  if (!page?.open) return withScope(depsOf(req).db, scope, work);
  let result: T;
  try {
    if (!page.scope || !sameScope(page.scope, scope)) {
      await applyScope(page.trx, scope);
      page.scope = scope;
    }
    result = await work(page.trx);
  } catch (error) {
    if (page.open) await finish(req, page, false);
    throw error;
  }
  // The response closed while the work ran (the client left, or the work itself streamed the
  // whole answer, as the CSV export does): closing ended the transaction already.
  if (page.open) await finish(req, page, true);
  return result;
}
