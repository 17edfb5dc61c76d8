import type { Request, Response } from 'express';
import { z } from 'zod';
import { workspaceOrigin } from '../../config';
import { depsOf } from '../../deps';
import { agentAudit, agentScope } from '../../middleware/admin-viewer';
import { withPage } from '../../middleware/page-transaction';
import { setConfirmAnonymousEmail, switchPortal } from '../../services/workspaces';
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
  confirmEmail: z
    .literal('on', {
      error:
        'Tick the box to ask people to confirm their email address, or leave it empty not to ask',
    })
    .optional(),
});

interface ModulesValues {
  portal: boolean;
  confirmEmail: boolean;
}

function render(
  req: Request,
  res: Response,
  status: number,
  values: ModulesValues,
  errors?: FormErrors,
): void {
  const workspace = res.locals.workspace;
  res.status(status).render('admin/modules.njk', {
    section: 'settings',
    settingsPage: 'modules',
    ...values,
    portalEnabled: workspace.portalEnabled,
    portalUrl: `${workspaceOrigin(depsOf(req).config, workspace.slug)}${paths.portal.home}`,
    flash: errors ? undefined : takeFlash(req, res),
    errors,
  });
}

export function get(req: Request, res: Response): void {
  const workspace = res.locals.workspace;
  render(req, res, 200, {
    portal: workspace.portalEnabled,
    confirmEmail: workspace.confirmAnonymousEmail,
  });
}

/** Takes effect on the next request: the module gate reads the workspace afresh every time. */
export async function post(req: Request, res: Response): Promise<void> {
  const workspace = res.locals.workspace;
  const form = parseForm(modulesForm, req.body);
  if (!form.ok) {
    // Keep what was ticked: a box whose value was garbled shows as it is saved.
    const body = (req.body ?? {}) as Record<string, unknown>;
    const kept = (field: 'portal' | 'confirmEmail', saved: boolean) =>
      form.errors.fields[field] ? saved : body[field] === 'on';
    return render(
      req,
      res,
      422,
      {
        portal: kept('portal', workspace.portalEnabled),
        confirmEmail: kept('confirmEmail', workspace.confirmAnonymousEmail),
      },
      form.errors,
    );
  }
  await withPage(req, res, agentScope(res), async (trx) => {
    const audit = agentAudit(req, res);
    const switched = await switchPortal(trx, audit, workspace, form.data.portal === 'on');
    await setConfirmAnonymousEmail(trx, audit, switched, form.data.confirmEmail === 'on');
  });
  setFlash(req, res, 'modules-saved');
  res.redirect(303, paths.admin.modules);
}
