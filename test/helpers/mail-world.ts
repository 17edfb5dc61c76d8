import nodemailer from 'nodemailer';
import type Mail from 'nodemailer/lib/mailer';
import { withScope } from '../../src/db/scopes';
import type { Workspace } from '../../src/models/workspaces';
import { replyAsAgent } from '../../src/services/agent-tickets';
import { startInboundSmtp, type InboundListener } from '../../src/services/inbound-smtp';
import { smtpTransport } from '../../src/services/mail-transport';
import { makeTestApp, type TestApp } from './app';
import type { TicketFixture } from './fixtures';
import type { User } from '../../src/models/users';
import { parseMime, TestSmtpServer, type Received } from './smtp';

export const DOMAIN = 'in.example.test';
export const FROM = 'Support <support@example.com>';

/**
 * Real SMTP both ways: the app sends through the catching server, and mail comes in through the
 * app's own listener, sent by nodemailer as any mail server would.
 */
export interface MailWorld {
  t: TestApp;
  outgoing: TestSmtpServer;
  listener: InboundListener;
  send(options: Mail.Options): Promise<unknown>;
  /** What the app has queued, delivered to the catching server now. */
  deliver(): Promise<Received[]>;
  close(): Promise<void>;
}

export async function aMailWorld(env: NodeJS.ProcessEnv = {}): Promise<MailWorld> {
  const outgoing = new TestSmtpServer();
  const port = await outgoing.listen();
  const t = makeTestApp({
    env: { INBOUND_DOMAIN: DOMAIN, MAIL_FROM: FROM, ...env },
    transport: smtpTransport(`smtp://127.0.0.1:${port}`, FROM),
  });
  const config = t.deps.config;
  const listener = await startInboundSmtp({
    ...t.deps,
    config: {
      ...config,
      inbound: { ...config.inbound, smtpPort: undefined, smtpHost: '127.0.0.1' },
    },
  });
  const sender = nodemailer.createTransport({
    host: '127.0.0.1',
    port: listener.port,
    secure: false,
    ignoreTLS: true,
  });
  return {
    t,
    outgoing,
    listener,
    send: (options) => sender.sendMail(options),
    async deliver() {
      const before = outgoing.received.length;
      await t.deliverMail();
      return outgoing.received.slice(before);
    },
    async close() {
      sender.close();
      await listener.stop();
      await outgoing.close();
    },
  };
}

export function headerOf(mail: Received, name: string): string | undefined {
  return parseMime(mail.raw)[0]!.headers.get(name);
}

/** An agent's reply to the ticket, mailed; returns the Reply-To address it carried. */
export async function anAgentReplyAddress(
  world: MailWorld,
  input: { workspace: Workspace; ticket: TicketFixture; agent: User },
): Promise<string> {
  const { templates, config, db } = world.t.deps;
  await withScope(db, { kind: 'system' }, (trx) =>
    replyAsAgent(
      trx,
      { templates, secret: config.sessionSecret, config },
      {
        ...input,
        body: 'Have you tried turning it off and on again?',
        at: world.t.clock.now(),
      },
    ),
  );
  const [mail] = await world.deliver();
  const replyTo = mail && headerOf(mail, 'reply-to');
  if (!replyTo) throw new Error('the agent reply carried no Reply-To');
  return replyTo;
}
