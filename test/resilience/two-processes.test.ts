import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { SMTPServer } from 'smtp-server';
import type { AddressInfo } from 'node:net';
import { freePort } from '../../src/db/embedded';
import { testDatabase } from '../helpers/database';
import { anAgentWithPassword, aRequester, aWorkspace } from '../helpers/fixtures';
import { signInLinkOf } from '../helpers/client';
import { cookiesOf, csrfOf, ServerProcess, until } from '../helpers/server-process';

/**
 * Two real server processes on different ports, one PostgreSQL (the suite's, by DATABASE_URL),
 * one public origin (a load balancer's) in front of both: whatever one instance starts, the
 * other can finish, and limits and mail hold across both.
 */
describe('two server processes behind one origin, one database', function () {
  this.timeout(120_000);
  const PASSWORD = 'correct horse battery staple';
  const received: { to: string; body: string }[] = [];
  let smtp: SMTPServer;
  let a: ServerProcess;
  let b: ServerProcess;
  const dirs: string[] = [];

  before(async () => {
    smtp = new SMTPServer({
      authOptional: true,
      disabledCommands: ['STARTTLS'],
      logger: false,
      onData(stream, session, callback) {
        let body = '';
        stream.on('data', (c: Buffer) => (body += c.toString()));
        stream.on('end', () => {
          for (const to of session.envelope.rcptTo) received.push({ to: to.address, body });
          callback();
        });
      },
    });
    await new Promise<void>((resolve) => smtp.listen(0, '127.0.0.1', resolve));
    const publicPort = await freePort();
    const env = {
      NODE_ENV: 'test',
      DATABASE_URL: testDatabase().url,
      SESSION_SECRET: 'two-instances-secret-two-instances-secret',
      BASE_URL: `http://localhost:${publicPort}`,
      SMTP_URL: `smtp://127.0.0.1:${(smtp.server.address() as AddressInfo).port}`,
      SIGNIN_PER_IP_PER_HOUR: '3',
      LOG_LEVEL: 'warn',
    };
    const make = async () => {
      const dir = mkdtempSync(path.join(os.tmpdir(), 'tickets-instance-'));
      dirs.push(dir);
      return new ServerProcess(dir, await freePort(), env, publicPort);
    };
    [a, b] = [await make(), await make()];
    await Promise.all([a.ready(), b.ready()]);
  });

  after(async () => {
    for (const server of [a, b]) {
      if (server && server.child.exitCode === null) {
        server.child.kill('SIGTERM');
        await server.exited;
      }
    }
    await new Promise<void>((resolve) => smtp.close(() => resolve()));
    for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
  });

  beforeEach(() => {
    received.length = 0;
  });

  async function mailTo(address: string) {
    await until(`a mail to ${address}`, () => received.some((m) => m.to === address));
    return received.find((m) => m.to === address)!;
  }

  it('a sign-in link requested on one is redeemed on the other, and the session works on both', async () => {
    const acme = await aWorkspace('acme');
    await aRequester(acme, 'jo@example.com', 'Jo');
    const jar = new Map<string, string>();
    const form = await a.request('GET', '/tickets/login');
    const asked = await a.request('POST', '/tickets/login', {
      cookie: cookiesOf(form, jar),
      form: { _csrf: csrfOf(form.body), email: 'jo@example.com' },
    });
    assert.ok(asked.status < 400, `asked on A: ${asked.status}`);
    const link = new URL(signInLinkOf((await mailTo('jo@example.com')).body.replace(/=\r\n/g, '')));

    const confirm = await b.request('GET', link.pathname, { cookie: cookiesOf(asked, jar) });
    assert.equal(confirm.status, 200, 'the link opens on B');
    const signedIn = await b.request('POST', link.pathname, {
      cookie: cookiesOf(confirm, jar),
      form: { _csrf: csrfOf(confirm.body) },
    });
    assert.equal(signedIn.status, 303, 'redeemed on B');
    const cookie = cookiesOf(signedIn, jar);
    for (const server of [a, b]) {
      const list = await server.request('GET', '/tickets', { cookie });
      assert.match(
        list.body,
        /<h1[^>]*>\s*Your tickets/,
        `signed in on ${server === a ? 'A' : 'B'}`,
      );
    }
    assert.equal(received.filter((m) => m.to === 'jo@example.com').length, 1, 'one mail');
  });

  it('a rate limit counted on one holds on the other', async () => {
    await aWorkspace('acme');
    const jar = new Map<string, string>();
    const ask = async (server: ServerProcess, email: string) => {
      const form = await server.request('GET', '/tickets/login', {
        cookie: cookiesOf({ status: 0, headers: {}, body: '' }, jar),
      });
      return (
        await server.request('POST', '/tickets/login', {
          cookie: cookiesOf(form, jar),
          form: { _csrf: csrfOf(form.body), email },
        })
      ).status;
    };
    // Three sign-in requests an hour from one IP (SIGNIN_PER_IP_PER_HOUR=3), counted across both.
    assert.ok((await ask(a, 'one@example.com')) < 400);
    assert.ok((await ask(b, 'two@example.com')) < 400);
    assert.ok((await ask(a, 'three@example.com')) < 400);
    assert.equal(await ask(b, 'four@example.com'), 429, 'the fourth, on B, is refused');
    assert.equal(await ask(a, 'five@example.com'), 429, 'and on A');
  });

  it('the portal switched off on one is off at the very next request on the other', async () => {
    const acme = await aWorkspace('acme');
    await anAgentWithPassword(acme, { email: 'ada@acme.test', password: PASSWORD, role: 'admin' });
    const jar = new Map<string, string>();
    const login = await a.request('GET', '/admin/login');
    const signedIn = await a.request('POST', '/admin/login', {
      cookie: cookiesOf(login, jar),
      form: { _csrf: csrfOf(login.body), email: 'ada@acme.test', password: PASSWORD },
    });
    assert.equal(signedIn.status, 303);
    const modules = await a.request('GET', '/admin/settings/modules', {
      cookie: cookiesOf(signedIn, jar),
    });
    assert.equal((await b.request('GET', '/tickets')).status, 200);
    const off = await a.request('POST', '/admin/settings/modules', {
      cookie: cookiesOf(modules, jar),
      form: { _csrf: csrfOf(modules.body) },
    });
    assert.equal(off.status, 303);
    assert.equal((await b.request('GET', '/tickets')).status, 404, 'off on B at once');
  });
});
