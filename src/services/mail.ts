import { createCipheriv, createDecipheriv, hkdfSync, randomBytes } from 'node:crypto';
import type { Environment } from 'nunjucks';
import type { Logger } from 'pino';
import type { Trx } from '../db/knex';
import { withScope } from '../db/scopes';
import type { Db } from '../db/knex';
import type { Clock } from '../deps';
import * as outbox from '../models/mail-outbox';
import type { MailTransport, OutgoingMail } from './mail-transport';

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

export function unseal(secret: string, sealed: Buffer): OutgoingMail {
  const decipher = createDecipheriv('aes-256-gcm', outboxKey(secret), sealed.subarray(0, 12));
  decipher.setAuthTag(sealed.subarray(12, 28));
  const json = Buffer.concat([decipher.update(sealed.subarray(28)), decipher.final()]);
  return JSON.parse(json.toString('utf8')) as OutgoingMail;
}

export interface MailContext {
  templates: Environment;
  secret: string;
}

/** Renders `views/emails/<template>.txt.njk` and `.html.njk` and queues the result. */
export async function queueMail(
  trx: Trx,
  ctx: MailContext,
  input: {
    workspaceId: string;
    to: string;
    subject: string;
    template: string;
    data: Record<string, unknown>;
    /** The app clock's now: the worker compares due times with that clock, not the database's. */
    at: Date;
  },
): Promise<void> {
  const data = { ...input.data, subject: input.subject };
  const mail: OutgoingMail = {
    to: input.to,
    subject: input.subject,
    text: ctx.templates.render(`emails/${input.template}.txt.njk`, data),
    html: ctx.templates.render(`emails/${input.template}.html.njk`, data),
  };
  await outbox.enqueue(trx, {
    workspaceId: input.workspaceId,
    sealed: seal(ctx.secret, mail),
    dueAt: input.at,
  });
}

export interface OutboxWorkerDeps {
  db: Db;
  clock: Clock;
  logger: Logger;
  mailTransport: MailTransport;
  secret: string;
  maxBackoffMs: number;
}

const LEASE_MS = 5 * 60 * 1000;

function backoffMs(attempts: number, max: number): number {
  return Math.min(10_000 * 2 ** attempts, max);
}

/** Sends what is due; returns how many were sent. Failures are rescheduled, never dropped. */
export async function processOutbox(deps: OutboxWorkerDeps, limit = 20): Promise<number> {
  const now = deps.clock.now();
  const claimed = await withScope(deps.db, { kind: 'system' }, (trx) =>
    outbox.claimDue(trx, { now, limit, leaseUntil: new Date(now.getTime() + LEASE_MS) }),
  );
  let sent = 0;
  for (const item of claimed) {
    try {
      await deps.mailTransport.send(unseal(deps.secret, item.sealed));
      await withScope(deps.db, { kind: 'system' }, (trx) =>
        outbox.markSent(trx, item.id, deps.clock.now()),
      );
      sent += 1;
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      const retryAt = new Date(
        deps.clock.now().getTime() + backoffMs(item.attempts, deps.maxBackoffMs),
      );
      deps.logger.warn(
        { mailId: item.id, attempts: item.attempts + 1, err: message },
        'mail failed',
      );
      await withScope(deps.db, { kind: 'system' }, (trx) =>
        outbox.markFailed(trx, { id: item.id, error: message, retryAt }),
      );
    }
  }
  return sent;
}

export interface Worker {
  stop(): Promise<void>;
}

/** Polls the outbox until stopped; one batch at a time. */
export function startOutboxWorker(deps: OutboxWorkerDeps, pollMs: number): Worker {
  let stopped = false;
  let running: Promise<void> = Promise.resolve();
  const tick = (): void => {
    if (stopped) return;
    running = processOutbox(deps)
      .then(() => undefined)
      .catch((error: unknown) => deps.logger.error({ err: error }, 'mail worker failed'))
      .finally(() => {
        if (!stopped) timer = setTimeout(tick, pollMs);
      });
  };
  let timer = setTimeout(tick, pollMs);
  return {
    async stop() {
      stopped = true;
      clearTimeout(timer);
      await running;
    },
  };
}
