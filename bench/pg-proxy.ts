/**
 * A TCP proxy in front of PostgreSQL that counts database round trips: every simple query ('Q'),
 * every Sync ('S', the end of an extended-protocol query) and every function call ('F') in the
 * frontend (client → server) stream is one round trip. Bytes pass through unchanged and
 * unbuffered; the parser reads a copy. Plain-text connections only: a client that asks for TLS
 * gets whatever the server answers, and the counts then mean nothing.
 *
 * Work that is not caused by a request (the mail worker polling the outbox, session pruning) is
 * recognised by its SQL, and a whole transaction counts as background when any statement in it
 * is: that makes the per-request count exact instead of "measured minus an idle rate".
 */
import net from 'node:net';

export interface RoundTripCounts {
  /** Round trips caused by requests. */
  request: number;
  /** Round trips of units of work classified as background. */
  background: number;
}

/** SQL that marks a unit of work (a transaction, or a lone statement) as background. */
export type BackgroundRule = RegExp;

interface Entry {
  epoch: number;
  background: boolean;
  sql: string;
}

/** Statements kept per counting window, for the trace of one request. */
const TRACE_LIMIT = 500;

const SSL_REQUEST = 80877103;
const GSSENC_REQUEST = 80877104;
const BEGIN = /^\s*(begin|start\s+transaction)\b/i;
const END = /^\s*(commit|rollback|end|abort)\b/i;

/** Shared by every connection of one proxy. */
class Tally {
  epoch = 0;
  counts: RoundTripCounts = { request: 0, background: 0 };
  trace: string[] = [];

  add(unit: readonly Entry[]): void {
    const background = unit.some((e) => e.background);
    for (const entry of unit) {
      if (entry.epoch !== this.epoch) continue;
      if (background) {
        this.counts.background += 1;
      } else {
        this.counts.request += 1;
        if (this.trace.length < TRACE_LIMIT) this.trace.push(entry.sql);
      }
    }
  }

  reset(): void {
    this.epoch += 1;
    this.counts = { request: 0, background: 0 };
    this.trace = [];
  }
}

/** Reads one connection's frontend stream and groups its round trips into units of work. */
class FrontendParser {
  private buffer: Buffer = Buffer.alloc(0);
  private startup = true;
  /**
   * The statements parsed since the last Sync: one round trip may carry several (a held back
   * BEGIN and scope ahead of the statement, a read-only transaction's COMMIT ahead of the next
   * one: src/db/deferred-statements.ts).
   */
  private pending: string[] = [];
  private unit: Entry[] | undefined;
  /** Prepared statements' texts by name: a reuse sends only a Bind naming the statement. */
  private readonly named = new Map<string, string>();
  /** The statement the last Parse made, which the Bind after it runs (already counted). */
  private justParsed: string | undefined;

  constructor(
    private readonly tally: Tally,
    private readonly rules: readonly BackgroundRule[],
  ) {}

  push(chunk: Buffer): void {
    this.buffer = this.buffer.length ? Buffer.concat([this.buffer, chunk]) : chunk;
    for (;;) {
      const header = this.startup ? 4 : 5;
      if (this.buffer.length < header) return;
      const length = this.buffer.readInt32BE(header - 4);
      const total = length + header - 4;
      if (this.buffer.length < total) return;
      const message = this.buffer.subarray(0, total);
      this.buffer = this.buffer.subarray(total);
      if (this.startup) this.onStartupMessage(message);
      else this.onMessage(String.fromCharCode(message[0] ?? 0), message.subarray(5));
    }
  }

  /** The connection ended: a transaction left open still counts. */
  end(): void {
    if (this.unit) this.tally.add(this.unit);
    this.unit = undefined;
  }

  /** Startup messages have no type byte; SSL and GSS requests precede the real one. */
  private onStartupMessage(message: Buffer): void {
    const code = message.length >= 8 ? message.readInt32BE(4) : 0;
    if (code !== SSL_REQUEST && code !== GSSENC_REQUEST) this.startup = false;
  }

  private onMessage(type: string, payload: Buffer): void {
    switch (type) {
      case 'Q':
        this.roundTrip([cString(payload, 0)]);
        break;
      case 'P': {
        const nameEnd = payload.indexOf(0);
        const name = cString(payload, 0);
        const sql = cString(payload, nameEnd + 1);
        if (name) this.named.set(name, sql);
        this.justParsed = name;
        this.pending.push(sql);
        break;
      }
      case 'B': {
        // Bind: portal name, then the statement's. A prepared statement run again has no Parse.
        const statement = cString(payload, payload.indexOf(0) + 1);
        if (statement && statement !== this.justParsed) {
          this.pending.push(this.named.get(statement) ?? `(prepared statement ${statement})`);
        }
        this.justParsed = undefined;
        break;
      }
      case 'S':
        this.roundTrip(this.pending);
        this.pending = [];
        break;
      case 'F':
        this.roundTrip([]);
        break;
      default:
        break;
    }
  }

  private roundTrip(statements: readonly string[]): void {
    const entry: Entry = {
      epoch: this.tally.epoch,
      background: this.rules.some((rule) => statements.some((sql) => rule.test(sql))),
      sql: statements.join('; '),
    };
    const begins = statements.findIndex((sql) => BEGIN.test(sql));
    if (begins >= 0) {
      // Whatever came before the BEGIN (a carried COMMIT) ended the previous unit of work.
      this.end();
      this.unit = [entry];
      if (statements.slice(begins + 1).some((sql) => END.test(sql))) this.end();
    } else if (this.unit) {
      this.unit.push(entry);
      if (statements.some((sql) => END.test(sql))) this.end();
    } else {
      this.tally.add([entry]);
    }
  }
}

function cString(buffer: Buffer, start: number): string {
  const end = buffer.indexOf(0, start);
  return buffer.toString('utf8', start, end < 0 ? buffer.length : end);
}

export interface CountingProxy {
  port: number;
  /** Starts a new counting window: round trips from here on. */
  reset(): void;
  read(): RoundTripCounts;
  /** The SQL of the request round trips since the last reset, in order (the first 500). */
  trace(): string[];
  close(): Promise<void>;
}

export function startCountingProxy(
  target: { host: string; port: number },
  rules: readonly BackgroundRule[],
): Promise<CountingProxy> {
  const tally = new Tally();
  const sockets = new Set<net.Socket>();
  const server = net.createServer((client) => {
    const upstream = net.connect(target.port, target.host);
    const parser = new FrontendParser(tally, rules);
    sockets.add(client).add(upstream);
    client.setNoDelay(true);
    upstream.setNoDelay(true);
    client.on('data', (chunk: Buffer) => {
      parser.push(chunk);
      upstream.write(chunk);
    });
    upstream.pipe(client);
    const close = (): void => {
      parser.end();
      client.destroy();
      upstream.destroy();
      sockets.delete(client);
      sockets.delete(upstream);
    };
    client.on('close', close).on('error', close).on('end', close);
    upstream.on('close', close).on('error', close).on('end', close);
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      resolve({
        port: typeof address === 'object' && address ? address.port : 0,
        reset: () => tally.reset(),
        read: () => ({ ...tally.counts }),
        trace: () => [...tally.trace],
        close: () =>
          new Promise<void>((done) => {
            for (const socket of sockets) socket.destroy();
            server.close(() => done());
          }),
      });
    });
  });
}
