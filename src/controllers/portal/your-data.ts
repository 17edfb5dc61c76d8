import type { Request, Response } from 'express';
import { depsOf } from '../../deps';
import { takeFlash } from '../../middleware/flash';
import { withPage } from '../../middleware/page-transaction';
import { portalScope } from '../../services/tickets';
import {
  collectPersonalData,
  personalDataFilename,
  type PersonalData,
} from '../../services/personal-data';
import { ERASED } from '../../services/erasure';

/** The signed-in requester (these routes sit behind requireRequester). */
export function requesterOf(res: Response): { requesterId: string; email: string } {
  const viewer = res.locals.viewer;
  if (viewer?.kind !== 'requester') throw new Error('your-data route without requireRequester');
  return viewer;
}

function collect(req: Request, res: Response): Promise<PersonalData> {
  const workspace = res.locals.workspace;
  const viewer = requesterOf(res);
  return withPage(req, res, portalScope(workspace.id, { kind: 'requester', ...viewer }), (trx) =>
    collectPersonalData(trx, {
      workspace,
      requesterId: viewer.requesterId,
      at: depsOf(req).clock.now(),
    }),
  );
}

/** /tickets/your-data: what is held, the downloads, and what erasure does, before asking. */
export async function get(req: Request, res: Response): Promise<void> {
  const data = await collect(req, res);
  res.render('portal/your-data.njk', {
    you: data.you,
    ticketCount: data.tickets.length,
    erasureRequestedAt: data.you.erasureRequestedAt && new Date(data.you.erasureRequestedAt),
    placeholder: ERASED,
    flash: takeFlash(req, res),
  });
}

/** Everything on one printable page, in the portal's layout. */
export async function page(req: Request, res: Response): Promise<void> {
  const data = await collect(req, res);
  // A whole copy of someone's data: no shared or browser cache should keep it.
  res.set('Cache-Control', 'no-store');
  res.render('portal/your-data-all.njk', { data, exportedAt: new Date(data.exportedAt) });
}

/** The same as a JSON file to keep (its shape: services/personal-data.ts and the README). */
export async function json(req: Request, res: Response): Promise<void> {
  const data = await collect(req, res);
  res.attachment(personalDataFilename(res.locals.workspace.slug, new Date(data.exportedAt)));
  res.set('Cache-Control', 'no-store');
  res.type('application/json').send(`${JSON.stringify(data, null, 2)}\n`);
}
