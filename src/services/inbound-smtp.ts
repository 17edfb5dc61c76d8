import type { AddressInfo } from 'node:net';
import { SMTPServer, type SMTPServerDataStream, type SMTPServerSession } from 'smtp-server';
import { isDatabaseUnavailable } from '../db/availability';
import { acceptsRecipient, receiveMail, type InboundDeps } from './inbound-mail';

/**
 * The built-in SMTP listener (INBOUND_SMTP_PORT): an MX for INBOUND_DOMAIN, or a relay's next
 * hop. It refuses what it cannot take while the sender is still connected, so the sender's
 * server (not we) tells the person: another domain or an unknown workspace at RCPT (550), an
 * over-size message at MAIL FROM when its SIZE says so and at the end of DATA otherwise (552,
 * with nothing of the body kept). Each message is processed before the 250, so once a mail
 * client reports it sent, the reply is in the thread.
 */

export interface InboundListener {
  port: number;
  stop(): Promise<void>;
}

function smtpError(code: number, message: string): Error {
  return Object.assign(new Error(message), { responseCode: code });
}

/** Reads the message, keeping nothing once it is over the limit (the rest is only counted). */
function readMessage(stream: SMTPServerDataStream): Promise<Buffer | undefined> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    stream.on('data', (chunk: Buffer) => {
      if (stream.sizeExceeded) chunks.length = 0;
      else chunks.push(chunk);
    });
    stream.on('error', reject);
    stream.on('end', () => resolve(stream.sizeExceeded ? undefined : Buffer.concat(chunks)));
  });
}

async function handle(
  deps: InboundDeps,
  stream: SMTPServerDataStream,
  session: SMTPServerSession,
): Promise<void> {
  const raw = await readMessage(stream);
  if (!raw) {
    throw smtpError(552, '5.3.4 Message too big for this system');
  }
  const { mailFrom, rcptTo } = session.envelope;
  const outcomes = await receiveMail(deps, raw, {
    from: mailFrom ? mailFrom.address : undefined,
    to: rcptTo.map((r) => r.address),
    clientIp: session.remoteAddress,
  });
  if (outcomes.some((o) => o.kind === 'deferred')) {
    throw smtpError(450, '4.7.1 Too many new tickets from this sender; try again later');
  }
}

export function startInboundSmtp(deps: InboundDeps): Promise<InboundListener> {
  const { inbound } = deps.config;
  const server = new SMTPServer({
    name: inbound.domain,
    banner: 'Tickets Portal inbound mail',
    size: inbound.maxMessageBytes,
    // Nobody signs in to deliver mail to us, and TLS is left to a relay in front (see README).
    authOptional: true,
    disabledCommands: ['AUTH', 'STARTTLS'],
    logger: false,
    closeTimeout: 5_000,
    onRcptTo(address, _session, callback) {
      acceptsRecipient(deps, address.address).then(
        (ok) => callback(ok ? null : smtpError(550, '5.1.1 No such mailbox here')),
        (error: unknown) => {
          deps.logger.error({ err: error }, 'inbound mail: recipient check failed');
          callback(smtpError(451, '4.3.0 Temporary failure, try again later'));
        },
      );
    },
    onData(stream, session, callback) {
      handle(deps, stream, session).then(
        () => callback(),
        (error: unknown) => {
          if (error instanceof Error && 'responseCode' in error) return callback(error);
          if (!isDatabaseUnavailable(error)) {
            deps.logger.error({ err: error }, 'inbound mail failed');
          }
          // The sending server keeps the message and tries again later: nothing is lost.
          callback(smtpError(451, '4.3.0 Temporary failure, try again later'));
        },
      );
    },
  });
  server.on('error', (error) => deps.logger.warn({ err: error }, 'inbound SMTP connection error'));
  return new Promise((resolve, reject) => {
    const listening = server.listen(inbound.smtpPort ?? 0, inbound.smtpHost, () => {
      listening.off('error', reject);
      resolve({
        port: (listening.address() as AddressInfo).port,
        stop: () => new Promise<void>((done) => server.close(() => done())),
      });
    });
    listening.once('error', reject);
  });
}
