import type { Request, Response } from 'express';
import { z } from 'zod';
import { workspaceOrigin } from '../../config';
import { depsOf } from '../../deps';
import { agentAudit, agentScope } from '../../middleware/admin-viewer';
import { withPage } from '../../middleware/page-transaction';
import { switchPortal } from '../../services/workspaces';
import { paths } from '../../routes/paths';
import { parseForm, type FormErrors } from '../../validation/form-errors';
import { setFlash, takeFlash } from '../../middleware/flash';

// An unticked checkbox sends nothing; a ticked one sends its value, "on".
const modulesForm = z.object({
  portal: z
    .literal('on', {
      error: 'Tick the box to turn the Tickets Portal on, or leave it empty to turn it off',
    })
    .optional(),
});

function render(
  req: Request,
  res: Response,
  status: number,
  portal: boolean,
  errors?: FormErrors,
): void {
  const workspace = res.locals.workspace;
  res.status(status).render('admin/modules.njk', {
    section: 'settings',
    settingsPage: 'modules',
    portal,
    portalEnabled: workspace.portalEnabled,
    portalUrl: `${workspaceOrigin(depsOf(req).config, workspace.slug)}${paths.portal.home}`,
    flash: errors ? undefined : takeFlash(req, res),
    errors,
  });
}

export function get(req: Request, res: Response): void {
  render(req, res, 200, res.locals.workspace.portalEnabled);
}

/** Takes effect on the next request: the module gate reads the workspace afresh every time. */
export async function post(req: Request, res: Response): Promise<void> {
  const form = parseForm(modulesForm, req.body);
  if (!form.ok) return render(req, res, 422, res.locals.workspace.portalEnabled, form.errors);
  await withPage(req, res, agentScope(res), (trx) =>
    switchPortal(trx, agentAudit(req, res), res.locals.workspace, form.data.portal === 'on'),
  );
  setFlash(req, res, 'modules-saved');
  res.redirect(303, paths.admin.modules);
}
