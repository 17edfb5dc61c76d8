import { createCipheriv, createDecipheriv, hkdfSync, randomBytes } from 'node:crypto';
import type { Environment } from 'nunjucks';
import type { Logger } from 'pino';
import type { Trx } from '../db/knex';
import { healthOf, isDatabaseUnavailable } from '../db/availability';
import { withScope } from '../db/scopes';
import type { Db } from '../db/knex';
import type { Clock } from '../deps';
import * as outbox from '../models/mail-outbox';
import * as workspaces from '../models/workspaces';
import { brandMail } from './mail-branding';
import { directionOf, type MailLocale } from './mail-locale';
import { readFilesForMail } from './attachments';
import type { MailFile, MailTransport, OutgoingMail } from './mail-transport';

/**
 * Mail is queued in the same transaction as the change that causes it and sent by a worker,
 * so a slow or failing SMTP server neither slows a request nor loses a message. Queued bodies
 * are sealed (AES-256-GCM) because a sign-in mail carries a live token, and the database
 * otherwise only ever holds token hashes.
 */
function outboxKey(secret: string): Buffer {
  return Buffer.from(hkdfSync('sha256', secret, 'tickets-portal', 'mail-outbox', 32));
}

export function seal(secret: string, mail: OutgoingMail): Buffer {
  const iv = randomBytes(12);
  const cipher = createCipheriv('aes-256-gcm', outboxKey(secret), iv);
  const body = Buffer.concat([cipher.update(JSON.stringify(mail), 'utf8'), cipher.final()]);
  return Buffer.concat([iv, cipher.getAuthTag(), body]);
}

/** Opens a sealed message with the first of the secrets that fits, or undefined if none does. */
export function unseal(secrets: readonly string[], sealed: Buffer): OutgoingMail | undefined {
  for (const secret of secrets) {
    try {
      const decipher = createDecipheriv('aes-256-gcm', outboxKey(secret), sealed.subarray(0, 12));
      decipher.setAuthTag(sealed.subarray(12, 28));
      const json = Buffer.concat([decipher.update(sealed.subarray(28)), decipher.final()]);
      return JSON.parse(json.toString('utf8')) as OutgoingMail;
    } catch {
      // Sealed under another key (GCM's tag check failed): try the next one.
    }
  }
  return undefined;
}

export interface MailContext {
  templates: Environment;
  /** The current secret: everything new is sealed with it. */
  secret: string;
}

/** The part of an address after its last @, lower-cased: all an operator is shown of it. */
export function domainOf(address: string): string {
  return address.slice(address.lastIndexOf('@') + 1).toLowerCase();
}

/**
 * Renders `views/emails/<template>.txt.njk` and `.html.njk` and queues the result. Every mail
 * looks like its workspace: it comes from the workspace's name, and the HTML layout carries its
 * colour and logo (`brand` in the templates' data); the plain text needs neither. Every mail is
 * in its reader's language and zone (`lang`, `dir` and `timeZone` in the data, which `t()` and
 * the time filters read); the subject comes translated, since the caller knows its words.
 */
export async function queueMail(
  trx: Trx,
  ctx: MailContext,
  input: {
    /** null only for an answer to mail that names no workspace (the system scope queues it). */
    workspaceId: string | null;
    to: string;
    /** The recipient's language and zone: see mailLocale. Required, so no mail is English by default. */
    locale: MailLocale;
    /** Already in the recipient's language (translate(locale.lang, …)). */
    subject: string;
    template: string;
    data: Record<string, unknown>;
    /** The app clock's now: the worker compares due times with that clock, not the database's. */
    at: Date;
    /** When the mail stops being worth sending (a sign-in link's expiry): never sent after it. */
    expiresAt?: Date;
    replyTo?: string;
    autoSubmitted?: OutgoingMail['autoSubmitted'];
    /** Files sent with it, read when it is sent. */
    files?: MailFile[];
  },
): Promise<void> {
  const found = input.workspaceId
    ? await workspaces.findMailBrand(trx, input.workspaceId)
    : undefined;
  const brand = found && brandMail(found);
  const { lang, timeZone } = input.locale;
  const data = {
    ...input.data,
    subject: input.subject,
    brand: brand?.view,
    lang,
    dir: directionOf(lang),
    timeZone,
  };
  const mail: OutgoingMail = {
    to: input.to,
    subject: input.subject,
    text: ctx.templates.render(`emails/${input.template}.txt.njk`, data),
    html: ctx.templates.render(`emails/${input.template}.html.njk`, data),
    fromName: found?.name,
    inlineImages: brand?.inlineImages,
    replyTo: input.replyTo,
    autoSubmitted: input.autoSubmitted,
    ...(input.files?.length && { files: input.files }),
  };
  await outbox.enqueue(trx, {
    workspaceId: input.workspaceId,
    sealed: seal(ctx.secret, mail),
    recipientDomain: domainOf(input.to),
    queuedAt: input.at,
    expiresAt: input.expiresAt,
  });
}

export interface OutboxWorkerDeps {
  db: Db;
  clock: Clock;
  logger: Logger;
  mailTransport: MailTransport;
  /** The current secret first, then older ones that may have sealed messages still queued. */
  secrets: readonly string[];
  maxBackoffMs: number;
  /** How long after it was queued a failing message is retried before it is marked failed. */
  retryForMs: number;
  /** Messages sent at once (the SMTP transport's connections); one when not given. */
  connections?: number;
}

const LEASE_MS = 5 * 60 * 1000;
/** Messages claimed at a time: a few seconds' sending, well inside the lease. */
const BATCH = 20;

export const UNOPENABLE = 'no configured secret opens this message';

function backoffMs(attempts: number, max: number): number {
  return Math.min(10_000 * 2 ** attempts, max);
}

/**
 * SMTP servers quote the recipient in their refusals ("550 <jo@example.com>: no such user"); the
 * outbox keeps only the domain in the clear, so errors keep only that much too.
 */
export function withoutAddresses(message: string): string {
  return message.replace(/[^\s<>()"',;:]+@([A-Za-z0-9.-]+)/g, '…@$1');
}

type Outcome = 'sent' | 'retrying' | 'failed' | 'expired';

const system = { kind: 'system' } as const;

/** A claimed message, opened (undefined when no configured secret opens it). */
interface ClaimedMail {
  item: outbox.QueuedMail;
  mail: OutgoingMail | undefined;
}

/** One claimed message: sent, rescheduled, given up, or found too late to send. */
async function attempt(deps: OutboxWorkerDeps, { item, mail }: ClaimedMail): Promise<Outcome> {
  const now = deps.clock.now();
  if (item.expiresAt && item.expiresAt <= now) {
    deps.logger.info({ mailId: item.id }, 'mail expired before it could be sent');
    await withScope(deps.db, system, (trx) => outbox.markExpired(trx, item.id, now));
    return 'expired';
  }
  if (!mail) {
    // Retrying cannot help until an operator configures the secret that sealed it.
    deps.logger.error({ mailId: item.id }, UNOPENABLE);
    await withScope(deps.db, system, (trx) =>
      outbox.markFailed(trx, { id: item.id, error: UNOPENABLE, at: now }),
    );
    return 'failed';
  }
  try {
    // Read for each attempt, so a message keeps no bytes of its own while it waits.
    const files = mail.files?.length ? await readFilesForMail(deps.db, mail.files) : [];
    await deps.mailTransport.send(mail, files);
  } catch (error) {
    const message = withoutAddresses(error instanceof Error ? error.message : String(error));
    const failedAt = deps.clock.now();
    const giveUpAt = item.queuedAt.getTime() + deps.retryForMs;
    if (failedAt.getTime() >= giveUpAt) {
      deps.logger.error(
        { mailId: item.id, attempts: item.attempts + 1, err: message },
        'mail failed: giving up',
      );
      await withScope(deps.db, system, (trx) =>
        outbox.markFailed(trx, { id: item.id, error: message, at: failedAt }),
      );
      return 'failed';
    }
    // The last attempt falls at the end of the window, so the window is used to its end.
    const retryAt = new Date(
      Math.min(failedAt.getTime() + backoffMs(item.attempts, deps.maxBackoffMs), giveUpAt),
    );
    deps.logger.warn({ mailId: item.id, attempts: item.attempts + 1, err: message }, 'mail failed');
    await withScope(deps.db, system, (trx) =>
      outbox.markRetry(trx, { id: item.id, error: message, retryAt }),
    );
    return 'retrying';
  }
  await withScope(deps.db, system, (trx) => outbox.markSent(trx, item.id, deps.clock.now()));
  return 'sent';
}

/**
 * The claimed messages in lines, one line per recipient in the order they were queued: lines go
 * out side by side, a line's messages one after another, so nobody gets a reply before the
 * acknowledgement it follows.
 */
function linesByRecipient(deps: OutboxWorkerDeps, claimed: outbox.QueuedMail[]): ClaimedMail[][] {
  // Lines start in the claim's order (mail with an expiry first, see claimDue)...
  const lines = new Map<string, ClaimedMail[]>();
  for (const item of claimed) {
    const mail = item.sealed ? unseal(deps.secrets, item.sealed) : undefined;
    const key = mail ? mail.to.toLowerCase() : item.id;
    const line = lines.get(key);
    if (line) line.push({ item, mail });
    else lines.set(key, [{ item, mail }]);
  }
  // ...and each is oldest first: a claim's UPDATE … RETURNING gives its rows in no set order.
  const byQueueTime = (a: ClaimedMail, b: ClaimedMail) =>
    a.item.queuedAt.getTime() - b.item.queuedAt.getTime();
  return [...lines.values()].map((line) => line.sort(byQueueTime));
}

/** Claims what is due and sends it; how many were claimed and how many of those were sent. */
async function sendDue(
  deps: OutboxWorkerDeps,
  limit: number,
  batch?: WorkerBatch,
): Promise<{ claimed: number; sent: number }> {
  const now = deps.clock.now();
  const claimed = await withScope(deps.db, system, (trx) =>
    outbox.claimDue(trx, { now, limit, leaseUntil: new Date(now.getTime() + LEASE_MS) }),
  );
  for (const item of claimed) batch?.unfinished.add(item.id);
  const waiting = linesByRecipient(deps, claimed);
  let sent = 0;
  const sender = async (): Promise<void> => {
    for (let line = waiting.shift(); line; line = waiting.shift()) {
      for (const claimedMail of line) {
        // Stopping: what is not started yet is left to release() (below), for another instance.
        if (batch?.stopping()) return;
        if ((await attempt(deps, claimedMail)) === 'sent') sent += 1;
        batch?.unfinished.delete(claimedMail.item.id);
      }
    }
  };
  const senders = Math.max(1, Math.min(deps.connections ?? 1, waiting.length));
  // Every sender finishes (or fails) before this returns: none is left running unobserved.
  const settled = await Promise.allSettled(Array.from({ length: senders }, sender));
  const failure = settled.find((result) => result.status === 'rejected');
  if (failure) throw failure.reason;
  return { claimed: claimed.length, sent };
}

/** Sends what is due; returns how many were sent. Failures are rescheduled until the window ends. */
export async function processOutbox(
  deps: OutboxWorkerDeps,
  limit = BATCH,
  batch?: WorkerBatch,
): Promise<number> {
  return (await sendDue(deps, limit, batch)).sent;
}

/** What a running worker has claimed and not finished, so a stop can hand it back. */
interface WorkerBatch {
  unfinished: Set<string>;
  stopping(): boolean;
}

/** A stopping worker waits this long for the messages it is sending, then hands them back. */
const STOP_WAIT_MS = 5_000;

export interface Worker {
  stop(): Promise<void>;
}

/**
 * Polls the outbox until stopped; one batch at a time. While the database is unreachable every
 * poll fails: that is one outage, logged once through the database's shared health record.
 */
export function startOutboxWorker(deps: OutboxWorkerDeps, pollMs: number): Worker {
  const health = healthOf(deps.db, deps.logger);
  let stopped = false;
  const batch: WorkerBatch = { unfinished: new Set(), stopping: () => stopped };
  let running: Promise<void> = Promise.resolve();
  const tick = (): void => {
    if (stopped) return;
    let more = false;
    running = sendDue(deps, BATCH, batch)
      .then(({ claimed, sent }) => {
        health.up();
        // A full batch that went out: more is likely due. Claim again at once instead of after
        // the interval (a burst of a thousand acknowledgements took minutes, a batch a second).
        // While nothing goes out (the SMTP server refuses or is down), each batch waits its turn
        // as before, rather than running through the whole queue's attempts in a burst.
        more = claimed === BATCH && sent > 0;
      })
      .catch((error: unknown) => {
        if (isDatabaseUnavailable(error)) health.down(error);
        else deps.logger.error({ err: error }, 'mail worker failed');
      })
      .finally(() => {
        if (!stopped) timer = setTimeout(tick, more ? 0 : pollMs);
      });
  };
  // The first look is at once: mail a stopped instance left queued goes out without a wait.
  let timer = setTimeout(tick, 0);
  return {
    /**
     * Finishes the messages being sent (waiting at most STOP_WAIT_MS) and hands every claimed
     * message not sent back to the queue, due now, so another instance sends it without waiting
     * for the claim's lease to run out.
     */
    async stop() {
      stopped = true;
      clearTimeout(timer);
      let wait: NodeJS.Timeout | undefined;
      await Promise.race([
        running,
        new Promise((resolve) => (wait = setTimeout(resolve, STOP_WAIT_MS))),
      ]);
      clearTimeout(wait);
      const ids = [...batch.unfinished];
      batch.unfinished.clear();
      if (!ids.length) return;
      await withScope(deps.db, system, (trx) => outbox.release(trx, ids, deps.clock.now()));
      deps.logger.info(
        { released: ids.length },
        'mail worker stopped: unsent messages handed back',
      );
    },
  };
}
