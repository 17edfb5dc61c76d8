import type { Request, Response } from 'express';
import { z } from 'zod';
import { depsOf } from '../../deps';
import { withPage } from '../../middleware/page-transaction';
import {
  adminSession,
  destroySession,
  regenerateSession,
  saveSession,
} from '../../middleware/sessions';
import { paths } from '../../routes/paths';
import { recordLockout, signInAgent } from '../../services/agent-auth';
import { clientIp, recordEvent } from '../../services/audit-trail';
import { agentAudit, agentScope } from '../../middleware/admin-viewer';
import { emailField } from '../../validation/fields';
import { fieldError, parseForm } from '../../validation/form-errors';

function loginForm(maxEmail: number) {
  return z.object({
    email: emailField(maxEmail),
    password: z
      .string({ error: 'Enter your password' })
      .min(1, 'Enter your password')
      .max(1024, 'Enter your password'),
  });
}

// The same words whether the address is unknown or the password wrong.
const WRONG = 'The email address or password is not right. Check them and try again.';

export function get(_req: Request, res: Response): void {
  if (res.locals.agent) return res.redirect(303, paths.admin.inbox);
  res.render('admin/login.njk', { values: {} });
}

export async function post(req: Request, res: Response): Promise<void> {
  const { config, clock, rateLimits } = depsOf(req);
  const workspace = res.locals.workspace;
  const body = (req.body ?? {}) as Record<string, unknown>;
  const values = { email: typeof body.email === 'string' ? body.email : '' };
  const form = parseForm(loginForm(config.limits.email), body);
  if (!form.ok) {
    res.status(422).render('admin/login.njk', { values, errors: form.errors });
    return;
  }
  const attempt = { workspaceId: workspace.id, email: form.data.email, ip: req.ip ?? '' };
  await rateLimits.agentLoginAllowed(attempt);
  const signin = { kind: 'signin', workspaceId: workspace.id } as const;
  const at = clock.now();
  const outcome = await withPage(req, res, signin, (trx) =>
    signInAgent(trx, {
      workspaceId: workspace.id,
      email: form.data.email,
      password: form.data.password,
      ip: req.ip,
      at,
    }),
  );
  if (!outcome.ok) {
    const limit = await rateLimits.agentLoginFailed(attempt);
    // The page transaction is committed: the lock gets a transaction of its own.
    if (limit) {
      await withPage(req, res, signin, (trx) =>
        recordLockout(
          trx,
          { workspaceId: workspace.id, ip: clientIp(req.ip), at },
          { account: outcome.account, limit },
        ),
      );
    }
    res.status(422).render('admin/login.njk', { values, errors: fieldError('email', WRONG) });
    return;
  }
  const { user } = outcome;
  await rateLimits.agentLoginSucceeded(attempt);
  const now = at.getTime();
  await regenerateSession(req);
  req.session.workspaceId = workspace.id;
  req.session.userId = user.id;
  req.session.signedInAt = now;
  req.session.lastSeenAt = now;
  await saveSession(req);
  res.redirect(303, paths.admin.inbox);
}

export async function logout(req: Request, res: Response): Promise<void> {
  await withPage(req, res, agentScope(res), (trx) =>
    recordEvent(trx, agentAudit(req, res), { action: 'agent.signed_out' }),
  );
  await destroySession(req);
  res.clearCookie(adminSession.name, { path: adminSession.path });
  res.redirect(303, paths.admin.login);
}
