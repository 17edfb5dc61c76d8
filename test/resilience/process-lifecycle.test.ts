import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { freePort } from '../../src/db/embedded';
import {
  cookiesOf,
  csrfOf,
  postgresOf,
  ServerProcess,
  until,
  type Reply,
} from '../helpers/server-process';

/**
 * The real server in its own process on its own embedded PostgreSQL, stopped every way it can
 * stop: cleanly, by SIGKILL of the server alone, of its whole process group, and after its
 * database's guardian was killed too. Nothing of it may keep running, and every acknowledged
 * write must be there at the next start.
 */
/** The form fields of an anonymous new ticket, with the token of the form page just loaded. */
async function newTicketForm(server: ServerProcess, jar: Map<string, string>, subject: string) {
  const form = await server.request('GET', '/tickets/new', {
    cookie: cookiesOf({ status: 0, headers: {}, body: '' }, jar),
  });
  assert.equal(form.status, 200);
  const cookie = cookiesOf(form, jar);
  return {
    cookie,
    fields: {
      _csrf: csrfOf(form.body),
      name: 'Sam Sample',
      email: 'sam@example.com',
      subject,
      description: 'It broke again.',
    },
  };
}

/** Opens a ticket as an anonymous visitor; answers the visitor's cookies and the ticket's URL. */
async function openTicket(server: ServerProcess, subject: string) {
  const jar = new Map<string, string>();
  const { cookie, fields } = await newTicketForm(server, jar, subject);
  const created = await server.request('POST', '/tickets/new', { cookie, form: fields });
  assert.equal(created.status, 303, created.body);
  return { cookie: cookiesOf(created, jar), location: created.headers.location! };
}

describe('process lifecycle: clean stops, crashes and the embedded database', function () {
  this.timeout(180_000);
  let dataDir: string;
  const running: ServerProcess[] = [];

  async function start(): Promise<ServerProcess> {
    const server = new ServerProcess(dataDir, await freePort());
    running.push(server);
    await server.ready();
    return server;
  }

  before(() => {
    dataDir = mkdtempSync(path.join(os.tmpdir(), 'tickets-lifecycle-'));
  });

  after(async () => {
    for (const server of running) if (server.child.exitCode === null) server.child.kill('SIGKILL');
    await until('the cluster is gone', () => postgresOf(dataDir).length === 0).catch(() => {
      for (const pid of postgresOf(dataDir)) process.kill(pid, 'SIGKILL');
    });
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('SIGTERM: a request in flight completes, new connections are refused, exit 0 within 10 s, and the database stops', async () => {
    const server = await start();
    assert.ok(postgresOf(dataDir).length > 0, 'the embedded cluster runs');
    const jar = new Map<string, string>();
    const { cookie, fields } = await newTicketForm(server, jar, 'Sent while stopping');
    const body = new URLSearchParams(fields).toString();

    // Half a request body, then the signal, then the rest.
    const reply = new Promise<Reply>((resolve, reject) => {
      const req = http.request(
        {
          host: '127.0.0.1',
          port: server.port,
          method: 'POST',
          path: '/tickets/new',
          agent: false,
          headers: {
            Host: `acme.localhost:${server.port}`,
            Cookie: cookie,
            Origin: `http://acme.localhost:${server.port}`,
            'Content-Type': 'application/x-www-form-urlencoded',
            'Content-Length': Buffer.byteLength(body),
          },
        },
        (res) => {
          let text = '';
          res.on('data', (c: Buffer) => (text += c.toString()));
          res.on('end', () =>
            resolve({ status: res.statusCode ?? 0, headers: res.headers, body: text }),
          );
        },
      );
      req.on('error', reject);
      req.write(body.slice(0, 20));
      setTimeout(() => {
        const signalledAt = Date.now();
        server.child.kill('SIGTERM');
        setTimeout(() => {
          const probe = net.connect(server.port, '127.0.0.1');
          probe.on('connect', () =>
            reject(new Error('a new connection was accepted while stopping')),
          );
          probe.on('error', () => {
            assert.ok(Date.now() - signalledAt < 5000);
            req.end(body.slice(20));
          });
        }, 500);
      }, 300);
    });
    const started = Date.now();
    const answered = await reply;
    assert.equal(answered.status, 303, 'the request in flight was answered as usual');
    const exit = await server.exited;
    assert.deepEqual(exit, { code: 0, signal: null }, server.output);
    assert.ok(Date.now() - started < 10_000, 'stopped within 10 s');
    assert.match(server.output, /shutting down/);
    assert.doesNotMatch(server.output, /still open at the deadline/, 'nothing had to be cut off');
    assert.deepEqual(postgresOf(dataDir), [], 'no PostgreSQL of this data directory remains');

    const again = await start();
    const page = await again.request('GET', answered.headers.location!, {
      cookie: cookiesOf(answered, jar),
    });
    assert.equal(page.status, 200);
    assert.match(page.body, /Sent while stopping/, 'the ticket sent while stopping was kept');
    again.child.kill('SIGTERM');
    assert.equal((await again.exited).code, 0);
  });

  it('a second signal stops at once, and the database still stops', async () => {
    const server = await start();
    // A request that never finishes keeps the first stop waiting.
    const hanging = net.connect(server.port, '127.0.0.1');
    await new Promise((r) => hanging.on('connect', r));
    hanging.write(
      `POST /tickets/new HTTP/1.1\r\nHost: acme.localhost:${server.port}\r\nContent-Length: 1000\r\n\r\nname=`,
    );
    hanging.on('error', () => undefined);
    await new Promise((r) => setTimeout(r, 200));
    server.child.kill('SIGTERM');
    await new Promise((r) => setTimeout(r, 500));
    assert.equal(server.child.exitCode, null, 'still finishing the request after one signal');
    const secondAt = Date.now();
    server.child.kill('SIGTERM');
    const exit = await server.exited;
    assert.ok(Date.now() - secondAt < 2000, 'gone within 2 s of the second signal');
    assert.notEqual(exit.code, 0);
    hanging.destroy();
    await until('the guardian stops the cluster', () => postgresOf(dataDir).length === 0);
  });

  for (const how of ['the server process alone', 'its whole process group'] as const) {
    it(`SIGKILL of ${how}: the database stops too, and the next start has every acknowledged write`, async () => {
      const server = await start();
      const visitor = await openTicket(server, `Opened before the crash of ${how}`);
      const pid = server.child.pid!;
      process.kill(how === 'the server process alone' ? pid : -pid, 'SIGKILL');
      await server.exited;
      await until(
        'no PostgreSQL of the data directory runs',
        () => postgresOf(dataDir).length === 0,
      );

      const again = await start();
      const page = await again.request('GET', visitor.location, { cookie: visitor.cookie });
      assert.equal(page.status, 200);
      assert.match(page.body, new RegExp(`Opened before the crash of ${how}`));
      again.child.kill('SIGTERM');
      assert.equal((await again.exited).code, 0);
      assert.deepEqual(postgresOf(dataDir), []);
    });
  }

  it('an orphaned cluster (server and guardian both killed) is adopted by the next start and stopped with it', async () => {
    const server = await start();
    const visitor = await openTicket(server, 'Opened before both were killed');
    const ownership = JSON.parse(readFileSync(path.join(dataDir, 'postgres.owner'), 'utf8')) as {
      guardianPid: number;
    };
    process.kill(ownership.guardianPid, 'SIGKILL');
    server.child.kill('SIGKILL');
    await server.exited;
    await new Promise((r) => setTimeout(r, 500));
    assert.ok(postgresOf(dataDir).length > 0, 'the orphan runs on');

    const again = await start();
    const page = await again.request('GET', visitor.location, { cookie: visitor.cookie });
    assert.match(page.body, /Opened before both were killed/);
    again.child.kill('SIGTERM');
    assert.equal((await again.exited).code, 0);
    assert.deepEqual(postgresOf(dataDir), [], 'the adopted cluster stopped with its adopter');
  });
});
