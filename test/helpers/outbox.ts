import { withScope } from '../../src/db/scopes';
import { queueMail } from '../../src/services/mail';
import type { TestApp } from './app';

/** One queued mail of a workspace: an agent's reply to a customer, as the worker tests send. */
export interface SampleMail {
  to: string;
  subject: string;
  reference: string;
  body: string;
}

/**
 * Queues the mails in the order given, in one system transaction. `spaced`: each a millisecond
 * after the one before by the app's clock, so the queue's order is known.
 */
export async function queueSampleMail(
  t: TestApp,
  workspaceId: string,
  mails: SampleMail[],
  options: { spaced?: boolean } = {},
): Promise<void> {
  await withScope(t.deps.db, { kind: 'system' }, async (trx) => {
    for (const mail of mails) {
      await queueMail(
        trx,
        { templates: t.deps.templates, secret: t.deps.config.sessionSecret },
        {
          workspaceId,
          to: mail.to,
          locale: { lang: 'en', timeZone: 'UTC' },
          subject: mail.subject,
          template: 'agent-reply',
          data: { workspaceName: 'Acme', reference: mail.reference, body: mail.body },
          at: t.clock.now(),
        },
      );
      if (options.spaced) t.clock.advance(1);
    }
  });
}

/** `count` mails to customer-0@example.com, customer-1@… (subject "Message i"). */
export function oneMailEach(count: number): SampleMail[] {
  return Array.from({ length: count }, (_, i) => ({
    to: `customer-${i}@example.com`,
    subject: `Message ${i}`,
    reference: `ACME-${i}`,
    body: `Body ${i}`,
  }));
}
