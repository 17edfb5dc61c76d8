import type { Request, Response } from 'express';
import { perLanguage } from '../../i18n/per-language';
import { z } from 'zod';
import type { FieldLimits } from '../../config';
import type { Trx } from '../../db/knex';
import type { Ticket } from '../../models/tickets';
import { depsOf } from '../../deps';
import type { Translate } from '../../i18n/translate';
import { languageOf, pageTranslator } from '../../middleware/page-language';
import { withPage } from '../../middleware/page-transaction';
import { paths } from '../../routes/paths';
import { formatReference, parseReference } from '../../services/references';
import { openAnonymousTicket, openTicketAsRequester } from '../../services/tickets';
import { emailField, fieldMessages, textField } from '../../validation/fields';
import {
  fieldError,
  fileErrors,
  mergeErrors,
  parseForm,
  type FormErrors,
} from '../../validation/form-errors';
import { uploadsOf } from '../../middleware/multipart-form';
import {
  AttachmentsRefusedError,
  attachToFirstMessage,
  checkIncomingAttachments,
} from '../../services/attachments';
import { regenerateSession, saveSession } from '../../middleware/sessions';
import { setFlash } from '../../middleware/flash';

function ticketFields(limits: FieldLimits, t: Translate) {
  return {
    subject: textField(limits.subject, fieldMessages(t, 'subject', limits.subject)),
    description: textField(limits.body, fieldMessages(t, 'description', limits.body), {
      multiline: true,
    }),
  };
}

const signedInForm = perLanguage((t: Translate, limits: FieldLimits) =>
  z.object(ticketFields(limits, t)),
);

const anonymousForm = perLanguage((t: Translate, limits: FieldLimits) =>
  z.object({
    name: textField(limits.name, fieldMessages(t, 'name', limits.name)),
    email: emailField(limits.email, t),
    ...ticketFields(limits, t),
  }),
);

function render(
  res: Response,
  form: { status?: number; values?: unknown; errors?: FormErrors } = {},
): void {
  res.status(form.status ?? 200).render('portal/new-ticket.njk', {
    signedIn: res.locals.viewer?.kind === 'requester',
    values: form.values ?? {},
    errors: form.errors,
  });
}

/**
 * A ticket that can no longer be reopened links here with its reference (`?followUp=ACME-1042`):
 * the subject starts out naming it. Only the reference's shape is checked, so nothing about the
 * old ticket is read or shown; anything else is ignored and the form starts empty.
 */
export function get(req: Request, res: Response): void {
  const { slug } = res.locals.workspace;
  const ref = req.query.followUp;
  const number = typeof ref === 'string' ? parseReference(slug, ref) : undefined;
  const values =
    number === undefined
      ? {}
      : {
          subject: pageTranslator(res)('portal.newTicket.followUpSubject', {
            reference: formatReference(slug, number),
          }),
        };
  render(res, { values });
}

export async function post(req: Request, res: Response): Promise<void> {
  const viewer = res.locals.viewer;
  if (viewer?.kind === 'requester') return postSignedIn(req, res, viewer.requesterId);
  return postAnonymous(req, res);
}

/**
 * The form again with its errors (422), the refused files named too: their bytes are judged on
 * the way past, never stored, since the browser does not keep the files for a second try.
 */
async function refuse(req: Request, res: Response, errors: FormErrors): Promise<void> {
  const refused = await checkIncomingAttachments(uploadsOf(res), depsOf(req).config.attachments);
  const files = fileErrors(refused, pageTranslator(res));
  render(res, { status: 422, values: req.body, errors: mergeErrors(errors, files) });
}

/** Runs the work that opens a ticket; refused files roll it back and show the form again. */
async function withFiles<T>(
  req: Request,
  res: Response,
  open: () => Promise<T>,
): Promise<T | undefined> {
  try {
    return await open();
  } catch (error) {
    if (!(error instanceof AttachmentsRefusedError)) throw error;
    const files = fileErrors(error.refused, pageTranslator(res));
    render(res, { status: 422, values: req.body, errors: files });
    return undefined;
  }
}

/** The form's files go with the new ticket's first message, in the transaction that opened it. */
async function attachFormFiles(
  req: Request,
  res: Response,
  trx: Trx,
  ticket: Ticket,
): Promise<Ticket> {
  await attachToFirstMessage(trx, {
    workspaceId: ticket.workspaceId,
    ticketId: ticket.id,
    files: uploadsOf(res),
    limits: depsOf(req).config.attachments,
  });
  return ticket;
}

async function postSignedIn(req: Request, res: Response, requesterId: string): Promise<void> {
  const { clock, config, templates } = depsOf(req);
  const workspace = res.locals.workspace;
  const form = parseForm(signedInForm(languageOf(res), config.limits), req.body);
  if (!form.ok) return refuse(req, res, form.errors);
  const now = clock.now();
  const mail = { templates, secret: config.sessionSecret, config, now };
  const ticket = await withFiles(req, res, () =>
    withPage(
      req,
      res,
      { kind: 'requester', workspaceId: workspace.id, requesterId },
      async (trx) => {
        const opened = await openTicketAsRequester(trx, mail, {
          workspace,
          requesterId,
          subject: form.data.subject,
          body: form.data.description,
          at: now,
          language: languageOf(res),
        });
        return attachFormFiles(req, res, trx, opened);
      },
    ),
  );
  if (!ticket) return;
  setFlash(req, res, 'created');
  res.redirect(303, paths.portal.ticket(formatReference(workspace.slug, ticket.number)));
}

/**
 * No account: the ticket is filed under the address's requester (created if new, name kept if
 * not), no mail with a sign-in link goes out, and this session gains access to this ticket only.
 * Where the workspace asks for it, the ticket is held until a mailed link confirms the address.
 */
async function postAnonymous(req: Request, res: Response): Promise<void> {
  const { clock, config, rateLimits, templates } = depsOf(req);
  const workspace = res.locals.workspace;
  const body = (req.body ?? {}) as Record<string, unknown>;
  if (typeof body.website === 'string' && body.website !== '') {
    return refuse(req, res, fieldError('subject', pageTranslator(res)('forms.honeypot')));
  }
  const form = parseForm(anonymousForm(languageOf(res), config.limits), body);
  if (!form.ok) return refuse(req, res, form.errors);
  await rateLimits.newTicket(req.ip ?? '');

  const now = clock.now();
  const ticket = await withFiles(req, res, () =>
    withPage(req, res, { kind: 'signin', workspaceId: workspace.id }, async (trx) => {
      const opened = await openAnonymousTicket(
        trx,
        { templates, secret: config.sessionSecret, config, now },
        {
          workspace,
          email: form.data.email,
          name: form.data.name,
          subject: form.data.subject,
          body: form.data.description,
          at: now,
          ip: req.ip,
          language: languageOf(res),
        },
      );
      // The scope is now the new ticket's requester (or visitor), who adds the files.
      return attachFormFiles(req, res, trx, opened);
    }),
  );
  if (!ticket) return;

  const sameVisitor = req.session.workspaceId === workspace.id && !req.session.requesterId;
  const earlier = sameVisitor ? (req.session.visitorTicketIds ?? []) : [];
  // A visitor session's lifetime counts from its first ticket, not its latest.
  const startedAt =
    sameVisitor && req.session.signedInAt !== undefined ? req.session.signedInAt : now.getTime();
  await regenerateSession(req);
  req.session.workspaceId = workspace.id;
  req.session.visitorTicketIds = [...earlier, ticket.id];
  req.session.signedInAt = startedAt;
  req.session.lastSeenAt = now.getTime();
  setFlash(req, res, ticket.heldSince === null ? 'created-anonymous' : 'created-held');
  await saveSession(req);
  res.redirect(303, paths.portal.ticket(formatReference(workspace.slug, ticket.number)));
}
