import { workspaceOrigin, type Config } from '../config';
import type { Trx } from '../db/knex';
import * as loginTokens from '../models/login-tokens';
import * as requesters from '../models/requesters';
import type { Requester } from '../models/requesters';
import type { Workspace } from '../models/workspaces';
import { translate } from '../i18n/translate';
import { paths } from '../routes/paths';
import { clientIp, recordEvent, requesterActor, visitorActor } from './audit-trail';
import { hashLinkToken, newLinkToken } from './link-tokens';
import { queueMail, type MailContext } from './mail';
import { mailLocale } from './mail-locale';
import {
  browserHash,
  codeHash,
  groupCode,
  newBrowserKey,
  newCode,
  normaliseCode,
} from './sign-in-codes';

/**
 * Issues a token for the address, with its code, and queues the mail carrying both. Runs in a
 * `signin` scope. Answers the key the asking browser must keep for the code to work there.
 * The audit trail records the request the same way whether or not the address is a customer's,
 * without looking: like the answer and its timing, the trail must not tell the two apart.
 * The mail is in the language of the page that asked for it, which a known address's requester
 * also keeps from now on (in the statement that reads their zone: one either way).
 */
export async function sendSignInLink(
  trx: Trx,
  ctx: MailContext & {
    config: Pick<Config, 'baseUrl' | 'magicLinkTtlMs' | 'signInCode'>;
    now: Date;
  },
  input: { workspace: Workspace; email: string; ip: string | undefined; language: string },
): Promise<string> {
  const { token, hash: tokenHash } = newLinkToken();
  const expiresAt = new Date(ctx.now.getTime() + ctx.config.magicLinkTtlMs);
  const browserKey = newBrowserKey();
  const code = newCode();
  await loginTokens.insert(trx, {
    workspaceId: input.workspace.id,
    email: input.email,
    tokenHash,
    expiresAt,
    code: {
      browser: browserHash(browserKey),
      codeHash: codeHash(browserKey, code),
      expiresAt: new Date(ctx.now.getTime() + ctx.config.signInCode.ttlMs),
    },
  });
  const link = `${workspaceOrigin(ctx.config, input.workspace.slug)}${paths.portal.signInLink(token)}`;
  const known = await requesters.rememberLanguageByEmail(trx, {
    workspaceId: input.workspace.id,
    email: input.email,
    language: input.language,
  });
  const locale = mailLocale(
    input.workspace,
    { language: input.language, timeZone: known.timeZone },
    input.language,
  );
  await queueMail(trx, ctx, {
    workspaceId: input.workspace.id,
    to: input.email,
    locale,
    subject: translate(locale.lang, 'mail.signIn.subject', {
      workspaceName: input.workspace.name,
    }),
    template: 'sign-in',
    data: {
      workspaceName: input.workspace.name,
      link,
      validMinutes: ctx.config.magicLinkTtlMs / 60_000,
      code: groupCode(code),
      codeMinutes: ctx.config.signInCode.ttlMs / 60_000,
    },
    at: ctx.now,
    // A link that no longer works is worse than no mail: it would only tell them it failed.
    expiresAt,
  });
  await recordEvent(
    trx,
    {
      workspaceId: input.workspace.id,
      actor: visitorActor(input.email),
      ip: clientIp(input.ip),
      at: ctx.now,
    },
    { action: 'portal.signin_link_requested' },
  );
  return browserKey;
}

export async function isSignInLinkUsable(
  trx: Trx,
  input: { workspaceId: string; token: string; now: Date },
): Promise<boolean> {
  const tokenHash = hashLinkToken(input.token);
  if (!tokenHash) return false;
  return loginTokens.isUsable(trx, { workspaceId: input.workspaceId, tokenHash, now: input.now });
}

/**
 * Spends the token (atomically: of two simultaneous uses exactly one wins) and returns the
 * requester it signs in, creating one for a first-time address. Runs in a `signin` scope.
 */
export async function redeemSignInLink(
  trx: Trx,
  input: {
    workspaceId: string;
    token: string;
    now: Date;
    ip: string | undefined;
    language: string;
  },
): Promise<Requester | undefined> {
  const tokenHash = hashLinkToken(input.token);
  if (!tokenHash) return undefined;
  const email = await loginTokens.consume(trx, {
    workspaceId: input.workspaceId,
    tokenHash,
    now: input.now,
  });
  if (!email) return undefined;
  const { workspaceId, now, ip, language } = input;
  return signInAs(trx, { workspaceId, email, now, ip, language });
}

export type CodeResult =
  | { outcome: 'signed-in'; requester: Requester }
  | { outcome: 'wrong'; triesLeft: number }
  | { outcome: 'unusable' };

/**
 * One try of a code, typed in the browser holding `browserKey` (its own request's key: any other
 * browser's finds no row). A right code spends the sign-in, link included, just as the link
 * would; a wrong one uses up a try. Runs in a `signin` scope.
 */
export async function redeemSignInCode(
  trx: Trx,
  input: {
    workspaceId: string;
    browserKey: string;
    code: string;
    now: Date;
    ip: string | undefined;
    maxAttempts: number;
    language: string;
  },
): Promise<CodeResult> {
  const code = normaliseCode(input.code);
  if (!code) return { outcome: 'unusable' };
  const attempt = await loginTokens.tryCode(trx, {
    workspaceId: input.workspaceId,
    browser: browserHash(input.browserKey),
    codeHash: codeHash(input.browserKey, code),
    now: input.now,
    maxAttempts: input.maxAttempts,
  });
  switch (attempt.outcome) {
    case 'unusable':
      return attempt;
    case 'wrong': {
      const triesLeft = input.maxAttempts - attempt.attempts;
      // The last try gone: the code is dead. Wrong tries to the end may be someone guessing.
      if (triesLeft === 0) {
        await recordEvent(
          trx,
          {
            workspaceId: input.workspaceId,
            actor: visitorActor(attempt.email),
            ip: clientIp(input.ip),
            at: input.now,
          },
          { action: 'portal.signin_code_exhausted', details: { tries: attempt.attempts } },
        );
      }
      return { outcome: 'wrong', triesLeft };
    }
    case 'signed-in': {
      const { workspaceId, now, ip, language } = input;
      const requester = await signInAs(
        trx,
        { workspaceId, email: attempt.email, now, ip, language },
        'code',
      );
      return { outcome: 'signed-in', requester };
    }
  }
}

/**
 * The requester a spent sign-in is for (created for a first-time address), on the trail, with
 * the language of the page they signed in on remembered.
 */
async function signInAs(
  trx: Trx,
  input: {
    workspaceId: string;
    email: string;
    now: Date;
    ip: string | undefined;
    language: string;
  },
  method: 'link' | 'code' = 'link',
): Promise<Requester> {
  const requester = await requesters.findOrCreate(trx, {
    workspaceId: input.workspaceId,
    email: input.email,
    name: '',
    language: input.language,
  });
  await recordEvent(
    trx,
    {
      workspaceId: input.workspaceId,
      actor: requesterActor(requester),
      ip: clientIp(input.ip),
      at: input.now,
    },
    // Links keep the event as it always was; a code says so.
    method === 'code'
      ? { action: 'portal.signin_link_used', details: { method: 'code' } }
      : { action: 'portal.signin_link_used' },
  );
  return requester;
}
