import type { Request, Response } from 'express';
import { depsOf } from '../../deps';
import { agentScope } from '../../middleware/admin-viewer';
import { withPage } from '../../middleware/page-transaction';
import * as auditEvents from '../../models/audit-events';
import { paths } from '../../routes/paths';
import { describeEvent } from '../../services/audit-trail';
import { decodeCursor, encodeCursor } from '../../services/cursors';

/**
 * The audit trail, newest first, a page at a time (`?before=` the last event shown). Only
 * admins reach it (requireAdmin), and row-level security shows the rows only to an admin too.
 */
export async function get(req: Request, res: Response): Promise<void> {
  const { config } = depsOf(req);
  const before = decodeCursor(req.query.before);
  const page = await withPage(req, res, agentScope(res), (trx) =>
    auditEvents.listPage(trx, {
      workspaceId: res.locals.workspace.id,
      before,
      limit: config.audit.pageSize,
    }),
  );
  res.render('admin/audit.njk', {
    section: 'settings',
    settingsPage: 'audit',
    events: page.events.map(describeEvent),
    isNewest: before === undefined,
    olderHref: page.older && `${paths.admin.audit}?before=${encodeCursor(page.older)}`,
    retentionDays: Math.round(config.audit.retentionMs / (24 * 60 * 60 * 1000)),
  });
}
