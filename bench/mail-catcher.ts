import { SMTPServer } from 'smtp-server';

const LINK = /\/tickets\/login\/([A-Za-z0-9_-]{43})(?![A-Za-z0-9_-])/;

/**
 * A real SMTP server on 127.0.0.1 for the app's outbox worker. It keeps only the latest sign-in
 * link per recipient: the bench signs in through the real flow, and the sign-in POST scenarios
 * make the app send one mail a minute per address, which nobody needs to keep.
 */
export class MailCatcher {
  private readonly links = new Map<string, string>();
  private readonly server = new SMTPServer({
    authOptional: true,
    disabledCommands: ['STARTTLS'],
    logger: false,
    // The app keeps its SMTP connections open a few seconds after a message: when the bench
    // ends, close them at once rather than wait 30 s for them to leave.
    closeTimeout: 100,
    onData: (stream, session, callback) => {
      const chunks: Buffer[] = [];
      stream.on('data', (chunk: Buffer) => chunks.push(chunk));
      stream.on('end', () => {
        // Quoted-printable may wrap the link: undo soft line breaks before looking for it.
        const raw = Buffer.concat(chunks)
          .toString('utf8')
          .replace(/=\r?\n/g, '');
        const token = LINK.exec(raw)?.[1];
        if (token) {
          for (const to of session.envelope.rcptTo) this.links.set(to.address.toLowerCase(), token);
        }
        callback();
      });
    },
  });

  listen(): Promise<number> {
    return new Promise((resolve, reject) => {
      this.server.on('error', reject);
      const listening = this.server.listen(0, '127.0.0.1', () => {
        const address = listening.address();
        resolve(typeof address === 'object' && address ? address.port : 0);
      });
    });
  }

  /** Takes (and forgets) the latest sign-in token mailed to the address, if any. */
  takeToken(address: string): string | undefined {
    const key = address.toLowerCase();
    const token = this.links.get(key);
    this.links.delete(key);
    return token;
  }

  close(): Promise<void> {
    return new Promise((resolve) => this.server.close(() => resolve()));
  }
}
