import type { Request, Response } from 'express';
import { pipeline } from 'node:stream/promises';
import { depsOf } from '../../deps';
import { agentScope } from '../../middleware/admin-viewer';
import { withPage } from '../../middleware/page-transaction';
import { HttpError } from '../../errors';
import * as ticketSearch from '../../models/ticket-search';
import { exportCsv, exportFilename } from '../../services/ticket-export';
import { parseInboxFilters, ticketSearchFor } from '../../validation/inbox-filters';

/**
 * /admin/tickets/export.csv: every ticket of the workspace that the inbox filters match, streamed
 * from a database cursor through the CSV writer into the response, so memory stays flat.
 */
export async function get(req: Request, res: Response): Promise<void> {
  const { clock, logger } = depsOf(req);
  const workspace = res.locals.workspace;
  const parsed = parseInboxFilters(req.query);
  if (!parsed.ok) throw new HttpError(400, 'bad search');
  const search = ticketSearchFor(workspace.slug, parsed.filters);
  try {
    await withPage(req, res, agentScope(res), async (trx) => {
      const tickets = await ticketSearch.openExportCursor(trx, {
        workspaceId: workspace.id,
        search,
      });
      res.attachment(exportFilename(workspace.slug, clock.now()));
      res.set({ 'Content-Type': 'text/csv; charset=utf-8', 'Cache-Control': 'no-store' });
      // pipeline destroys every stage when the client goes away or a stage fails, which ends the
      // cursor's iteration before withScope rolls the transaction back.
      await pipeline(exportCsv(workspace.slug, tickets), res);
    });
  } catch (error) {
    const aborted = (error as { code?: unknown } | null)?.code === 'ERR_STREAM_PREMATURE_CLOSE';
    // Nothing sent and the connection still open: the error handler can answer with a page.
    if (!res.headersSent && !res.destroyed && !aborted) throw error;
    // Otherwise part of a file may have gone out: cut the connection so the download fails
    // visibly rather than ending short as if complete.
    if (!res.destroyed) res.destroy();
    if (aborted) logger.info('ticket export abandoned by the client');
    else logger.error({ err: error }, 'ticket export failed');
  }
}
