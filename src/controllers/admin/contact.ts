import type { Request, Response } from 'express';
import { z } from 'zod';
import { depsOf } from '../../deps';
import { agentAudit, agentScope } from '../../middleware/admin-viewer';
import { setFlash } from '../../middleware/flash';
import { withPage } from '../../middleware/page-transaction';
import { paths } from '../../routes/paths';
import { changeContact } from '../../services/workspace-settings';
import { optionalEmailField } from '../../validation/fields';
import { parseForm } from '../../validation/form-errors';
import { renderBranding } from './branding';

function contactForm(max: number) {
  return z.object({
    contactEmail: optionalEmailField(max, 'the contact address', 'help@example.com'),
  });
}

/** Settings → Branding: the address customers may write to for help in another way. */
export async function post(req: Request, res: Response): Promise<void> {
  const { config } = depsOf(req);
  const body = (req.body ?? {}) as Record<string, unknown>;
  const form = parseForm(contactForm(config.limits.email), body);
  if (!form.ok) {
    const typed = typeof body.contactEmail === 'string' ? body.contactEmail : '';
    return renderBranding(req, res, 422, { contactEmail: typed, errors: form.errors });
  }
  await withPage(req, res, agentScope(res), (trx) =>
    changeContact(trx, agentAudit(req, res), res.locals.workspace, form.data.contactEmail),
  );
  setFlash(req, res, form.data.contactEmail ? 'contact-saved' : 'contact-removed');
  res.redirect(303, paths.admin.branding);
}
