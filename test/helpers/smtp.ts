import { SMTPServer, type SMTPServerSession } from 'smtp-server';

export interface Received {
  mailFrom: string | undefined;
  rcptTo: string[];
  raw: string;
}

/** A real SMTP server on 127.0.0.1 that keeps every message, or refuses them all when told to. */
export class TestSmtpServer {
  readonly received: Received[] = [];
  refusals = 0;
  refuse = false;
  /** What a refusal says; real servers often quote the recipient's address in it. */
  refusal = 'Mailbox busy, try again later';
  /** Connections opened to this server so far. */
  connections = 0;
  /** Hold each message this long before answering it, so messages sent side by side overlap. */
  holdMs = 0;
  /** The most messages this server was receiving at one moment. */
  mostAtOnce = 0;
  private receiving = 0;
  private readonly server = new SMTPServer({
    authOptional: true,
    disabledCommands: ['STARTTLS'],
    logger: false,
    // The app's transport keeps its connections open a few seconds after a message; a test
    // server that stops says so to them at once instead of waiting 30 s for them to leave.
    closeTimeout: 100,
    onConnect: (_session, callback) => {
      this.connections += 1;
      callback();
    },
    onData: (stream, session, callback) => {
      this.receiving += 1;
      this.mostAtOnce = Math.max(this.mostAtOnce, this.receiving);
      const chunks: Buffer[] = [];
      stream.on('data', (chunk: Buffer) => chunks.push(chunk));
      stream.on('end', () => {
        setTimeout(() => {
          this.receiving -= 1;
          this.answer(session, chunks, callback);
        }, this.holdMs);
      });
    },
  });

  private answer(
    session: SMTPServerSession,
    chunks: Buffer[],
    callback: (error?: Error | null) => void,
  ): void {
    if (this.refuse) {
      this.refusals += 1;
      callback(Object.assign(new Error(this.refusal), { responseCode: 451 }));
      return;
    }
    const { mailFrom, rcptTo } = session.envelope;
    this.received.push({
      mailFrom: mailFrom ? mailFrom.address : undefined,
      rcptTo: rcptTo.map((r) => r.address),
      raw: Buffer.concat(chunks).toString('utf8'),
    });
    callback();
  }

  listen(port = 0): Promise<number> {
    return new Promise((resolve, reject) => {
      this.server.on('error', reject);
      const listening = this.server.listen(port, '127.0.0.1', () => {
        const address = listening.address();
        resolve(typeof address === 'object' && address ? address.port : 0);
      });
    });
  }

  close(): Promise<void> {
    return new Promise((resolve) => this.server.close(resolve));
  }
}

export interface MimePart {
  headers: Map<string, string>;
  body: string;
  /** The decoded body as bytes, for parts that are not text (an inline image). */
  bytes: Buffer;
}

/** Just enough MIME to read what nodemailer sends: headers, multipart, quoted-printable, base64. */
export function parseMime(raw: string): MimePart[] {
  const split = raw.indexOf('\r\n\r\n');
  const head = raw.slice(0, split).replace(/\r\n[ \t]+/g, ' ');
  const body = raw.slice(split + 4);
  const headers = new Map<string, string>();
  for (const line of head.split('\r\n')) {
    const colon = line.indexOf(':');
    headers.set(line.slice(0, colon).trim().toLowerCase(), line.slice(colon + 1).trim());
  }
  const type = headers.get('content-type') ?? 'text/plain';
  const boundary = /boundary="?([^";]+)"?/i.exec(type)?.[1];
  if (/^multipart\//i.test(type) && boundary) {
    const sections = body.split(`--${boundary}`).slice(1, -1);
    return [
      { headers, body: '', bytes: Buffer.alloc(0) },
      ...sections.flatMap((s) => parseMime(s.replace(/^\r\n/, ''))),
    ];
  }
  const encoding = (headers.get('content-transfer-encoding') ?? '7bit').toLowerCase();
  let bytes: Buffer;
  if (encoding === 'base64') bytes = Buffer.from(body.replace(/\s+/g, ''), 'base64');
  else if (encoding === 'quoted-printable') {
    const unwrapped = body.replace(/=\r\n/g, '');
    bytes = Buffer.from(
      unwrapped.replace(/=([0-9A-F]{2})/gi, (_m, hex: string) =>
        String.fromCharCode(parseInt(hex, 16)),
      ),
      'latin1',
    );
  } else bytes = Buffer.from(body, 'utf8');
  return [{ headers, body: bytes.toString('utf8'), bytes }];
}

export function partOf(parts: MimePart[], type: string): MimePart | undefined {
  return parts.find((p) => (p.headers.get('content-type') ?? '').toLowerCase().startsWith(type));
}

/** The plain-text part of a received message. */
export function textOf(mail: Received): string {
  const text = partOf(parseMime(mail.raw), 'text/plain');
  if (!text) throw new Error('no text/plain part');
  return text.body;
}

/**
 * An address header (From) read back as a mail client does, written here rather than with
 * nodemailer's own code so a test does not trust the encoder to check itself: RFC 5322 quoted
 * strings and RFC 2047 encoded words (Q and B, UTF-8), adjacent words joined.
 */
export function parseAddressHeader(value: string): { name: string; address: string } {
  const match = /^(.*?)\s*<([^<>]*)>$/.exec(value.trim());
  if (!match) return { name: '', address: value.trim() };
  const [, display, address] = match as unknown as [string, string, string];
  if (display.startsWith('"') && display.endsWith('"')) {
    return { name: display.slice(1, -1).replace(/\\(.)/g, '$1'), address };
  }
  const word = /=\?([^?]+)\?([QqBb])\?([^?]*)\?=/y;
  const pieces: Buffer[] = [];
  let rest = display;
  let plain = '';
  while (rest.length) {
    word.lastIndex = 0;
    const encoded = word.exec(rest);
    if (encoded) {
      const [whole, charset, kind, text] = encoded as unknown as [string, string, string, string];
      if (charset.toLowerCase() !== 'utf-8') throw new Error(`unexpected charset ${charset}`);
      pieces.push(
        kind.toUpperCase() === 'B'
          ? Buffer.from(text, 'base64')
          : Buffer.from(
              text
                .replace(/_/g, ' ')
                .replace(/=([0-9A-F]{2})/gi, (_m, hex: string) =>
                  String.fromCharCode(parseInt(hex, 16)),
                ),
              'latin1',
            ),
      );
      // Whitespace between two encoded words is not part of the text.
      rest = rest.slice(whole.length).replace(/^\s+(?==\?)/, '');
    } else {
      plain += Buffer.concat(pieces.splice(0)).toString('utf8') + rest[0];
      rest = rest.slice(1);
    }
  }
  return { name: plain + Buffer.concat(pieces).toString('utf8'), address };
}
