import assert from 'node:assert/strict';
import type pg from 'pg';
import { startCountingProxy, type CountingProxy } from '../../bench/pg-proxy';
import { createDb, createPool, type Db } from '../../src/db/knex';
import { makeTestApp } from '../helpers/app';
import { Browser } from '../helpers/client';
import { testDatabase } from '../helpers/database';
import { aRequester, aTicket, aWorkspace, anAgentWithPassword } from '../helpers/fixtures';

/**
 * Database round trips of a signed-in page, counted on the wire (the benchmark's protocol proxy
 * in front of both of the app's pools). The workspace and the session row come in the page
 * transaction's first statement; the scope travels with the page's data; a GET's end travels
 * with the connection's next use. The session store never reads the row a second time.
 */
describe('round trips of a signed-in page', () => {
  let proxy: CountingProxy;
  let db: Db;
  let sessionPool: pg.Pool;

  before(async () => {
    const url = new URL(testDatabase().url);
    proxy = await startCountingProxy({ host: url.hostname, port: Number(url.port) }, [
      /mail_outbox/,
    ]);
    url.hostname = '127.0.0.1';
    url.port = String(proxy.port);
    db = createDb(url.href, 2);
    sessionPool = createPool(url.href, 2);
  });

  after(async () => {
    await db.destroy();
    await sessionPool.end();
    await proxy.close();
  });

  async function counted(fetch: () => Promise<{ status: number }>): Promise<string[]> {
    // The request before (a warm-up) ends its transaction alone 10 ms after it answered: let
    // that end go first, or on a loaded machine it lands among this request's round trips.
    await new Promise((resolve) => setTimeout(resolve, 100));
    proxy.reset();
    const res = await fetch();
    assert.equal(res.status, 200);
    // A GET's read-only transaction ends with the connection's next statement, or alone 10 ms
    // later when there is none (as here); the proxy counts a transaction once it has ended.
    await new Promise((resolve) => setTimeout(resolve, 100));
    return proxy.trace();
  }

  it('the portal’s ticket list: workspace and session, then scope and tickets, then its end', async () => {
    const t = makeTestApp({ database: { db, sessionPool } });
    const acme = await aWorkspace('acme');
    const jo = await aRequester(acme, 'jo@example.com', 'Jo');
    await aTicket(acme, jo, { subject: 'Printer on fire' });
    const browser = new Browser(t);
    await browser.signIn('jo@example.com');
    await browser.get('/tickets'); // the once-a-minute activity write is not this test's matter

    const trace = await counted(() => browser.get('/tickets'));
    assert.equal(trace.length, 3, trace.join('\n'));
    assert.match(
      trace[0] ?? '',
      /^(COMMIT;?; )?BEGIN TRANSACTION READ ONLY;?; select w\.id.*from portal_sessions/s,
    );
    assert.match(trace[1] ?? '', /^select set_config\('app\.scope'.*; select .*from tickets\b/s);
    assert.match(trace[2] ?? '', /^COMMIT/);
    assert.ok(!trace.some((sql) => /^SELECT sess FROM/.test(sql)), 'the store read the row again');
  });

  it('the agent inbox: workspace and session, then scope and agent, then the tickets, then its end', async () => {
    const t = makeTestApp({ database: { db, sessionPool } });
    const acme = await aWorkspace('acme');
    await anAgentWithPassword(acme, { email: 'alex@acme.test', password: 'correct horse battery' });
    const jo = await aRequester(acme, 'jo@example.com', 'Jo');
    await aTicket(acme, jo, { subject: 'Printer on fire' });
    const browser = new Browser(t);
    assert.equal(
      (await browser.signInAgent('alex@acme.test', 'correct horse battery')).status,
      303,
    );
    await browser.get('/admin');

    const trace = await counted(() => browser.get('/admin'));
    assert.equal(trace.length, 4, trace.join('\n'));
    assert.match(trace[0] ?? '', /select w\.id.*from admin_sessions/s);
    assert.match(trace[1] ?? '', /^select set_config\('app\.scope'.*from users\b/s);
    assert.match(trace[3] ?? '', /^COMMIT/);
    assert.ok(!trace.some((sql) => /^SELECT sess FROM/.test(sql)), 'the store read the row again');
  });

  it('the agent’s ticket page: the ticket and who asked in one statement, then the thread', async () => {
    const t = makeTestApp({ database: { db, sessionPool } });
    const acme = await aWorkspace('acme');
    await anAgentWithPassword(acme, { email: 'alex@acme.test', password: 'correct horse battery' });
    const jo = await aRequester(acme, 'jo@example.com', 'Jo Requester');
    const ticket = await aTicket(acme, jo, { subject: 'Printer on fire' });
    const browser = new Browser(t);
    assert.equal(
      (await browser.signInAgent('alex@acme.test', 'correct horse battery')).status,
      303,
    );
    const path = `/admin/tickets/ACME-${ticket.number}`;
    const page = await browser.get(path);
    assert.match(page.text, /Jo Requester/);
    assert.match(page.text, /jo@example\.com/);

    const trace = await counted(() => browser.get(path));
    assert.equal(trace.length, 5, trace.join('\n'));
    assert.match(trace[0] ?? '', /select w\.id.*from admin_sessions/s);
    assert.match(trace[1] ?? '', /^select set_config\('app\.scope'.*from users\b/s);
    assert.match(
      trace[2] ?? '',
      /from tickets as t cross join lateral \(\s*select name, email from requesters/,
    );
    assert.match(trace[3] ?? '', /\bfrom messages\b/);
    assert.match(trace[4] ?? '', /^COMMIT/);
  });
});
