import type { Request, Response } from 'express';
import { z } from 'zod';
import { workspaceOrigin } from '../../config';
import { depsOf } from '../../deps';
import { agentAudit, agentScope } from '../../middleware/admin-viewer';
import { withPage } from '../../middleware/page-transaction';
import * as users from '../../models/users';
import { paths } from '../../routes/paths';
import { hashPassword } from '../../services/passwords';
import { addUser, MIN_PASSWORD_LENGTH } from '../../services/user-accounts';
import { emailField, textField } from '../../validation/fields';
import { fieldError, parseForm, type FormErrors } from '../../validation/form-errors';
import { setFlash, takeFlash } from '../../middleware/flash';

// Nobody types more; the cap keeps a request from asking for an expensive hash of megabytes.
const MAX_PASSWORD_LENGTH = 1024;
const DUPLICATE = 'A user with this email address already exists';

function newUserForm(limits: { name: number; email: number }) {
  return z.object({
    name: textField(limits.name, { missing: 'Enter their name', label: 'Name' }),
    // emailField speaks to the person signing in ("your"); here an admin types someone else's.
    email: z
      .string({ error: 'Enter their email address' })
      .trim()
      .min(1, 'Enter their email address')
      .pipe(emailField(limits.email)),
    role: z.enum(['admin', 'agent'], { error: 'Select a role' }),
    password: z
      .string({ error: 'Enter an initial password' })
      .min(1, 'Enter an initial password')
      .min(MIN_PASSWORD_LENGTH, `The password must be at least ${MIN_PASSWORD_LENGTH} characters`)
      .max(MAX_PASSWORD_LENGTH, `The password must be ${MAX_PASSWORD_LENGTH} characters or fewer`),
  });
}

interface NewUserValues {
  name: string;
  email: string;
  role: string;
}

async function render(
  req: Request,
  res: Response,
  status: number,
  values: NewUserValues,
  errors?: FormErrors,
): Promise<void> {
  const { config } = depsOf(req);
  const workspace = res.locals.workspace;
  const list = await withPage(req, res, agentScope(res), (trx) =>
    users.listByWorkspace(trx, workspace.id),
  );
  res.status(status).render('admin/users.njk', {
    section: 'users',
    users: list,
    values,
    minPasswordLength: MIN_PASSWORD_LENGTH,
    loginUrl: `${workspaceOrigin(config, workspace.slug)}${paths.admin.login}`,
    flash: errors ? undefined : takeFlash(req, res),
    errors,
  });
}

export function get(req: Request, res: Response): Promise<void> {
  return render(req, res, 200, { name: '', email: '', role: '' });
}

export async function post(req: Request, res: Response): Promise<void> {
  const { config } = depsOf(req);
  const body = (req.body ?? {}) as Record<string, unknown>;
  const text = (v: unknown): string => (typeof v === 'string' ? v : '');
  const values = { name: text(body.name), email: text(body.email), role: text(body.role) };
  const form = parseForm(newUserForm(config.limits), body);
  if (!form.ok) return render(req, res, 422, values, form.errors);
  // Hash before the transaction: scrypt takes a while and needs no database.
  const passwordHash = await hashPassword(form.data.password);
  const user = await withPage(req, res, agentScope(res), (trx) =>
    addUser(trx, agentAudit(req, res), {
      email: form.data.email,
      name: form.data.name,
      role: form.data.role,
      passwordHash,
    }),
  );
  if (!user) return render(req, res, 422, values, fieldError('email', DUPLICATE));
  setFlash(req, res, 'user-added');
  res.redirect(303, paths.admin.users);
}
