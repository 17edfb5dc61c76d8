import assert from 'node:assert/strict';
import http from 'node:http';
import net from 'node:net';
import type { AddressInfo } from 'node:net';
import { makeTestApp, type TestApp } from '../helpers/app';
import { csrfTokenOf } from '../helpers/client';
import {
  aRequester,
  aTicket,
  aWorkspace,
  tenantRows,
  type TicketFixture,
} from '../helpers/fixtures';

/** What the server may read of a refused body: the limit on a form's fields, 64 KB. */
const FIELD_LIMIT = 64 * 1024;
const DECLARED = 20 * 1024 * 1024;

interface Outcome {
  status: number;
  /** Bytes the server read from the connection, headers included. */
  serverRead: number;
  /** Bytes the client managed to write before the server answered and closed. */
  clientWrote: number;
}

/**
 * A browser-like client that sends a multipart form with one 20 MB file as fast as the server
 * lets it, over a plain socket, and notes how much the server read before it answered.
 */
class RawServer {
  private readonly server: http.Server;
  private readonly sockets: net.Socket[] = [];
  port = 0;

  constructor(t: TestApp) {
    this.server = http.createServer(t.app);
    this.server.on('connection', (socket) => this.sockets.push(socket));
  }

  async start(): Promise<void> {
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    this.port = (this.server.address() as AddressInfo).port;
  }

  stop(): Promise<void> {
    this.server.closeAllConnections();
    return new Promise((resolve) => this.server.close(() => resolve()));
  }

  /** A GET, for a form's CSRF token and cookie. */
  get(path: string, cookie = ''): Promise<{ html: string; cookie: string }> {
    return new Promise((resolve, reject) => {
      const req = http.get(
        {
          host: '127.0.0.1',
          port: this.port,
          path,
          headers: { Host: 'acme.localhost', Cookie: cookie },
        },
        (res) => {
          let html = '';
          res.on('data', (c: Buffer) => (html += c.toString()));
          res.on('end', () => {
            const set = (res.headers['set-cookie'] ?? []).map((c) => c.split(';')[0]!);
            resolve({ html, cookie: [cookie, ...set].filter(Boolean).join('; ') });
          });
        },
      );
      req.on('error', reject);
    });
  }

  async upload(
    path: string,
    fields: Record<string, string>,
    cookie = '',
    host = 'acme.localhost',
    declared = DECLARED,
  ): Promise<Outcome> {
    const boundary = '----attachtest';
    const head = Object.entries(fields)
      .map(
        ([name, value]) =>
          `--${boundary}\r\nContent-Disposition: form-data; name="${name}"\r\n\r\n${value}\r\n`,
      )
      .join('');
    const fileHead = `--${boundary}\r\nContent-Disposition: form-data; name="attachments"; filename="big.pdf"\r\nContent-Type: application/pdf\r\n\r\n%PDF-1.4\n`;
    const socket = net.connect(this.port, '127.0.0.1');
    await new Promise((resolve) => socket.once('connect', resolve));
    const serverSocket = this.sockets.at(-1)!;
    const serverClosed = new Promise<void>((resolve) =>
      serverSocket.once('close', () => resolve()),
    );
    let response = '';
    let answered = false;
    socket.on('data', (c: Buffer) => {
      response += c.toString('latin1');
      answered = true;
    });
    const clientClosed = new Promise<void>((resolve) => socket.once('close', () => resolve()));
    socket.on('error', () => undefined);
    socket.write(
      `POST ${path} HTTP/1.1\r\nHost: ${host}\r\nContent-Type: multipart/form-data; boundary=${boundary}\r\n` +
        `Content-Length: ${declared}\r\n${cookie ? `Cookie: ${cookie}\r\n` : ''}\r\n${head}${fileHead}`,
    );
    const filler = Buffer.alloc(64 * 1024, 0x20);
    let wrote = 0;
    while (!answered && !socket.destroyed && wrote < declared - 2 * filler.length) {
      wrote += filler.length;
      if (!socket.write(filler)) {
        await Promise.race([
          new Promise((resolve) => socket.once('drain', resolve)),
          new Promise((resolve) => setTimeout(resolve, 200)),
        ]);
      }
    }
    await Promise.race([serverClosed, new Promise((resolve) => setTimeout(resolve, 5000))]);
    socket.destroy();
    await clientClosed;
    const status = Number(/^HTTP\/1\.1 (\d{3})/.exec(response)?.[1] ?? 0);
    return { status, serverRead: serverSocket.bytesRead, clientWrote: wrote };
  }
}

describe('a refused multipart body is not read', () => {
  let t: TestApp;
  let server: RawServer;
  let ticket: TicketFixture;

  beforeEach(async () => {
    t = makeTestApp();
    const acme = await aWorkspace('acme');
    const jo = await aRequester(acme, 'jo@example.com', 'Jo');
    ticket = await aTicket(acme, jo);
    await aWorkspace('offco', { portal: false });
    server = new RawServer(t);
    await server.start();
  });

  afterEach(() => server.stop());

  function assertCapped(outcome: Outcome, status: number): void {
    assert.equal(outcome.status, status);
    assert.ok(
      outcome.serverRead <= FIELD_LIMIT + 2048,
      `the server read ${outcome.serverRead} bytes (the client wrote ${outcome.clientWrote})`,
    );
  }

  it('a wrong CSRF token: 403 after at most 64 KB, nothing stored', async () => {
    const before = await tenantRows();
    const outcome = await server.upload(`/tickets/${ticket.reference}/replies`, {
      _csrf: 'wrong',
      body: 'Hello',
    });
    assertCapped(outcome, 403);
    assert.deepEqual(await tenantRows(), before);
  });

  it('a visitor with a good token posting to a ticket it cannot see: sent to sign in after at most 64 KB', async () => {
    const form = await server.get('/tickets/new');
    const before = await tenantRows();
    const outcome = await server.upload(
      `/tickets/${ticket.reference}/replies`,
      { _csrf: csrfTokenOf(form.html), body: 'Hello' },
      form.cookie,
    );
    assertCapped(outcome, 303);
    assert.deepEqual(await tenantRows(), before);
  });

  it('a portal that is off: 404 after at most 64 KB', async () => {
    const outcome = await server.upload('/tickets/new', { subject: 'x' }, '', 'offco.localhost');
    assertCapped(outcome, 404);
  });

  it('a body declared over the limit: 413 before the files are read', async () => {
    const outcome = await server.upload(
      '/tickets/new',
      { subject: 'x' },
      '',
      'acme.localhost',
      30 * 1024 * 1024,
    );
    assertCapped(outcome, 413);
  });
});
