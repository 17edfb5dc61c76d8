import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type pg from 'pg';
import type { Response } from 'supertest';
import { openEmbedded, type EmbeddedDatabase } from '../../src/db/embedded';
import { createDb, createPool, type Db } from '../../src/db/knex';
import { migrateLatest } from '../../src/db/migrate';
import { withScope } from '../../src/db/scopes';
import * as requesters from '../../src/models/requesters';
import * as users from '../../src/models/users';
import { hashPassword } from '../../src/services/passwords';
import { openTicket } from '../../src/services/tickets';
import { createWorkspace } from '../../src/services/workspaces';
import { makeTestApp, type TestApp } from '../helpers/app';
import { $, Browser, csrfTokenOf } from '../helpers/client';

/**
 * The database really stops (its own PostgreSQL cluster, not the suite's shared one) while the
 * app runs; every page of both apps must then answer a calm 503, and serve again by itself when
 * the database is back.
 */
describe('database outage', function () {
  this.timeout(120_000);
  const PASSWORD = 'correct horse battery staple';
  let dataDir: string;
  let cluster: EmbeddedDatabase;
  let db: Db;
  let sessionPool: pg.Pool;
  let t: TestApp;
  let customer: Browser;
  let agent: Browser;
  let anonymous: Browser;
  let portalToken: string;
  let adminToken: string;

  before(async () => {
    dataDir = mkdtempSync(path.join(os.tmpdir(), 'tickets-outage-'));
    cluster = await openEmbedded({ dataDir, persistent: true });
    db = createDb(cluster.url, 4);
    sessionPool = createPool(cluster.url, 4);
    sessionPool.on('error', () => undefined);
    await migrateLatest(db);
    await withScope(db, { kind: 'system' }, async (trx) => {
      const workspace = await createWorkspace(trx, {
        slug: 'acme',
        name: 'Acme',
        portalEnabled: true,
      });
      const jo = await requesters.findOrCreate(trx, {
        workspaceId: workspace.id,
        email: 'jo@example.com',
        name: 'Jo',
      });
      await openTicket(trx, {
        workspace,
        requester: jo,
        subject: 'Printer on fire',
        body: 'Smoke everywhere.',
        at: new Date('2026-11-25T09:00:00Z'),
      });
      await users.insert(trx, {
        workspaceId: workspace.id,
        email: 'admin@acme.test',
        name: 'Ada Admin',
        role: 'admin',
        passwordHash: await hashPassword(PASSWORD),
      });
    });
    t = makeTestApp({ database: { db, sessionPool } });
    customer = new Browser(t);
    await customer.signIn('jo@example.com');
    portalToken = csrfTokenOf((await customer.get('/tickets/ACME-1001')).text);
    agent = new Browser(t);
    assert.equal((await agent.signInAgent('admin@acme.test', PASSWORD)).status, 303);
    adminToken = csrfTokenOf((await agent.get('/admin/tickets/ACME-1001')).text);
    anonymous = new Browser(t);
    portalToken = csrfTokenOf((await customer.get('/tickets')).text);
  });

  after(async () => {
    await db?.destroy();
    await sessionPool?.end();
    await cluster?.stop();
    rmSync(dataDir, { recursive: true, force: true });
  });

  /** Every kind of page of both apps, signed in and not, reads and writes. */
  function everyPage(): { label: string; send: () => Promise<Response> }[] {
    const get = (b: Browser, p: string) => ({ label: `GET ${p}`, send: () => b.get(p) });
    return [
      get(customer, '/tickets'),
      get(customer, '/tickets/ACME-1001'),
      get(customer, '/tickets/new'),
      get(anonymous, '/tickets'),
      get(anonymous, '/tickets/login'),
      get(anonymous, '/tickets/new'),
      {
        label: 'POST a reply',
        send: () =>
          customer.post('/tickets/ACME-1001/replies', { _csrf: portalToken, body: 'Hello?' }),
      },
      {
        label: 'POST a sign-in request',
        send: () => anonymous.post('/tickets/login', { email: 'sam@example.com' }),
      },
      get(agent, '/admin/tickets'),
      get(agent, '/admin/tickets/ACME-1001'),
      get(agent, '/admin/settings/modules'),
      get(agent, '/admin/users'),
      get(agent, '/admin/tickets/export.csv'),
      get(anonymous, '/admin/login'),
      {
        label: 'POST an agent reply',
        send: () =>
          agent.post('/admin/tickets/ACME-1001/replies', { _csrf: adminToken, body: 'On it.' }),
      },
    ];
  }

  it('answers 503 with Retry-After and a calm page while PostgreSQL is stopped, logs it once, and serves again by itself', async () => {
    for (const page of everyPage()) {
      const res = await page.send();
      assert.ok(
        res.status < 500,
        `${page.label} is served while the database is up (${res.status})`,
      );
    }
    assert.equal((await anonymous.get('/readyz')).status, 200);

    t.logLines.length = 0;
    await cluster.stop();
    for (const page of everyPage()) {
      const started = Date.now();
      const res = await page.send();
      const took = Date.now() - started;
      assert.equal(res.status, 503, page.label);
      assert.equal(res.headers['retry-after'], '60', `${page.label}: Retry-After`);
      assert.ok(took < 2000, `${page.label}: answered in ${took} ms`);
      const html = $(res.text);
      assert.equal(html('h1').text().trim(), 'We can’t show this right now', page.label);
      assert.match(html('main').text(), /Your tickets are safe\. Try again in a minute\./);
      assert.doesNotMatch(res.text, /ECONNREFUSED|at \w+ \(|Error:/, `${page.label}: no details`);
    }
    const ready = await anonymous.get('/readyz');
    assert.equal(ready.status, 503, '/readyz while the database is down');
    assert.equal((await anonymous.get('/healthz')).status, 200, '/healthz is liveness only');
    const outageLines = t.logLines.filter((l) => /database unreachable/.test(l));
    assert.equal(
      outageLines.length,
      1,
      `logged once, not once per request:\n${outageLines.join('')}`,
    );
    assert.equal(
      t.logLines.filter((l) => (JSON.parse(l) as { level: number }).level >= 50).length,
      1,
      'no other error lines',
    );

    cluster = await openEmbedded({ dataDir, persistent: true });
    assert.equal((await anonymous.get('/readyz')).status, 200, '/readyz once it is back');
    for (const page of everyPage()) {
      const res = await page.send();
      assert.ok(res.status < 500, `${page.label} is served again (${res.status})`);
    }
    assert.equal(t.logLines.filter((l) => /database reachable again/.test(l)).length, 1);
    const list = await customer.get('/tickets');
    assert.match($(list.text)('h1').text(), /Your tickets/, 'the session survived the outage');
  });
});
