import assert from 'node:assert/strict';
import request from 'supertest';
import { MINUTE, makeTestApp, type TestApp } from '../helpers/app';
import { Browser, signInLinkOf } from '../helpers/client';
import {
  aRequester,
  aTicket,
  aWorkspace,
  anAgentWithPassword,
  anAttachment,
  rows,
} from '../helpers/fixtures';
import type { TicketFixture } from '../helpers/fixtures';
import { testDatabase } from '../helpers/database';
import type { Workspace } from '../../src/models/workspaces';

/**
 * The next transaction id PostgreSQL will hand out. Only a transaction that writes is given one,
 * so while it stays the same nothing anywhere in the database was inserted, updated or deleted.
 */
async function nextXid(): Promise<bigint> {
  const [row] = await rows<{ xmax: string }>(
    'select pg_snapshot_xmax(pg_current_snapshot())::text as xmax',
  );
  return BigInt(row!.xmax);
}

async function writesDuring(work: () => Promise<void>): Promise<number> {
  const before = await nextXid();
  await work();
  return Number((await nextXid()) - before);
}

const PASSWORD = 'correct horse battery staple';

const anonymousTicket = {
  name: 'Sam Visitor',
  email: 'sam@example.com',
  subject: 'Held back',
  description: 'Until my address is confirmed.',
};

function confirmLinkOf(text: string): string {
  const match = /https?:\/\/\S+\/tickets\/confirm\/[A-Za-z0-9_-]{43}/.exec(text);
  if (!match) throw new Error('no confirmation link in the mail');
  return match[0];
}

describe('a read writes nothing', () => {
  let t: TestApp;
  let ticket: TicketFixture;
  let acme: Workspace;

  beforeEach(async () => {
    t = makeTestApp();
    acme = await aWorkspace('acme');
    await aWorkspace('globex', { portal: false });
    const jo = await aRequester(acme, 'jo@example.com', 'Jo');
    ticket = await aTicket(acme, jo, { subject: 'Printer on fire' });
    await anAgentWithPassword(acme, { email: 'alex@acme.test', password: PASSWORD });
  });

  it('anonymous GETs of every page of both apps write no row and set no session cookie', async () => {
    // A sign-in link to open: asking for it writes (a token and a mail), opening it must not.
    const asker = new Browser(t);
    await asker.submit('/tickets/login', '/tickets/login', { email: 'jo@example.com' });
    const [mail] = await t.deliverMail();
    const link = new URL(signInLinkOf(mail!.text)).pathname;
    // A held anonymous ticket's confirmation link: opening the link's page must not spend it.
    await rows('update workspaces set confirm_anonymous_email = true');
    await new Browser(t).submit('/tickets/new', '/tickets/new', anonymousTicket);
    const [confirmation] = await t.deliverMail();
    const confirmLink = new URL(confirmLinkOf(confirmation!.text)).pathname;
    // A logo with its resized copy: serving the copy must not write either.
    const png = Buffer.from(
      'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAQAAAC1HAwCAAAAC0lEQVR42mNkYAAAAAYAAjCB0C8AAAAASUVORK5CYII=',
      'base64',
    );
    await rows(
      `update workspaces set logo = ?, logo_type = 'image/png', logo_resized = ?,
         logo_resized_type = 'image/png', logo_version = 7 where slug = 'acme'`,
      [png, png],
    );
    const brandCss = /href="(\/tickets\/brand\/[^"]+\.css)"/.exec(
      (await asker.get('/tickets')).text,
    )![1]!;

    const pages: [host: string, path: string, status: number][] = [
      ['acme.localhost', '/tickets', 200],
      ['acme.localhost', '/tickets?q=printer&status=open', 200],
      ['acme.localhost', '/tickets/login', 200],
      ['acme.localhost', '/tickets/new', 200],
      ['acme.localhost', '/tickets/accessibility', 200],
      ['acme.localhost', `/tickets/new?followUp=${ticket.reference}`, 200],
      ['acme.localhost', link, 200],
      ['acme.localhost', '/tickets/login/not-a-real-token', 410],
      // The code page, to a browser that never asked for a mail: sent to ask for one.
      ['acme.localhost', '/tickets/login/code', 303],
      ['acme.localhost', `/tickets/${ticket.reference}`, 303],
      ['acme.localhost', confirmLink, 200],
      ['acme.localhost', `/tickets/confirm/${'A'.repeat(43)}`, 410],
      ['acme.localhost', '/tickets/confirm/done', 200],
      ['acme.localhost', brandCss, 200],
      ['acme.localhost', '/tickets/your-data', 303],
      ['acme.localhost', '/tickets/your-data/all', 303],
      ['acme.localhost', '/tickets/your-data/all.json', 303],
      ['acme.localhost', '/tickets/your-data/erasure', 303],
      ['acme.localhost', '/tickets/preferences', 303],
      ['acme.localhost', '/tickets/brand/logo-7', 200],
      ['acme.localhost', '/tickets/no/such/page', 404],
      // The language switcher: a cookie and a redirect, nothing stored.
      ['acme.localhost', '/tickets/language/es?back=%2Ftickets%2Flogin', 303],
      ['acme.localhost', '/tickets/language/xx?back=%2Ftickets', 404],
      ['acme.localhost', '/admin/login', 200],
      ['acme.localhost', '/admin', 303],
      ['acme.localhost', `/admin/tickets/${ticket.reference}`, 303],
      ['acme.localhost', '/admin/settings/erasure-requests', 303],
      ['acme.localhost', '/admin/settings/regional', 303],
      ['globex.localhost', '/tickets/login', 404],
      ['nobody.localhost', '/tickets', 404],
    ];
    const sessionsBefore = await rows(
      'select sid from portal_sessions union all select sid from admin_sessions',
    );
    const writes = await writesDuring(async () => {
      for (let round = 0; round < 3; round += 1) {
        for (const [host, path, status] of pages) {
          // A new client every time, as a crawler is: no cookies carried over.
          const res = await request(t.app).get(path).set('Host', host).redirects(0);
          assert.equal(res.status, status, `${host}${path}`);
          const cookies = (res.headers['set-cookie'] as unknown as string[] | undefined) ?? [];
          assert.ok(
            !cookies.some((c) => /^(portal|admin)_sid=/.test(c)),
            `${host}${path} sets no session cookie`,
          );
        }
      }
    });
    assert.equal(writes, 0, 'no transaction wrote anything');
    // The code page shown again to the browser that asked: it reads that browser's cookie only.
    const codePage = await writesDuring(async () => {
      for (let round = 0; round < 3; round += 1) {
        assert.equal((await asker.get('/tickets/login/code')).status, 200);
      }
    });
    assert.equal(codePage, 0, 'the code page wrote nothing');
    assert.deepEqual(
      await rows('select sid from portal_sessions union all select sid from admin_sessions'),
      sessionsBefore,
    );
  });

  it('a visitor’s search of the tickets it opened writes nothing', async () => {
    const visitor = new Browser(t);
    await visitor.submit('/tickets/new', '/tickets/new', {
      name: 'Sam Visitor',
      email: 'sam@example.com',
      subject: 'Invoice missing',
      description: 'Please help.',
    });
    const writes = await writesDuring(async () => {
      for (const [path, status] of [
        ['/tickets?q=invoice', 200],
        ['/tickets?status=bogus', 422],
      ] as const) {
        assert.equal((await visitor.get(path)).status, status, path);
      }
    });
    assert.equal(writes, 0);
  });

  it('a signed-in customer’s GETs write the session’s activity at most once a minute', async () => {
    const jo = new Browser(t);
    await jo.signIn('jo@example.com');
    const browse = async () => {
      for (const path of [
        '/tickets',
        `/tickets/${ticket.reference}`,
        '/tickets/new',
        '/tickets/your-data',
        '/tickets/your-data/all',
        '/tickets/your-data/all.json',
        '/tickets/your-data/erasure',
        '/tickets/accessibility',
        '/tickets/preferences',
        `/tickets/new?followUp=${ticket.reference}`,
      ]) {
        assert.equal((await jo.get(path)).status, 200, path);
      }
      // The search, its results and its refusal (issue 10) read as the list does.
      assert.equal((await jo.get('/tickets?q=fire&status=open')).status, 200);
      assert.equal((await jo.get('/tickets?status=bogus')).status, 422);
      // Choosing a language sets a cookie only: the session row stays as it is.
      assert.equal((await jo.get('/tickets/language/de?back=%2Ftickets')).status, 303);
    };
    assert.equal(await writesDuring(browse), 0, 'within the minute of signing in: no write');
    t.clock.advance(30_000);
    assert.equal(await writesDuring(browse), 0, 'half a minute later: still none');
    t.clock.advance(31_000);
    assert.equal(await writesDuring(browse), 1, 'a minute on: one write, for all four pages');
    const [session] = await rows<{ sess: { lastSeenAt: number } }>(
      'select sess from portal_sessions',
    );
    assert.equal(session!.sess.lastSeenAt, t.clock.now().getTime(), 'activity recorded');
    assert.equal(await writesDuring(browse), 0, 'and none again within that minute');
  });

  it('a visitor’s GETs of a held ticket and its link write nothing within the minute', async () => {
    await rows('update workspaces set confirm_anonymous_email = true');
    const sam = new Browser(t);
    const opened = await sam.submit('/tickets/new', '/tickets/new', anonymousTicket);
    const held = opened.headers.location as string;
    const [mail] = await t.deliverMail();
    const link = new URL(confirmLinkOf(mail!.text)).pathname;
    assert.equal((await sam.get(held)).status, 200, 'the flash is spent');
    const browse = async () => {
      for (const path of ['/tickets', held, link]) {
        assert.equal((await sam.get(path)).status, 200, path);
      }
    };
    assert.equal(await writesDuring(browse), 0);
    assert.equal(
      (
        await rows<{ n: number }>(
          'select count(*)::int as n from ticket_confirmations where used_at is null',
        )
      )[0]!.n,
      1,
      'the link is not spent',
    );
  });

  it('an agent’s GETs write the session’s activity at most once a minute', async () => {
    const alex = new Browser(t);
    assert.equal((await alex.signInAgent('alex@acme.test', PASSWORD)).status, 303);
    const browse = async () => {
      for (const path of [
        '/admin/tickets',
        `/admin/tickets/${ticket.reference}`,
        '/admin/tickets/new',
      ]) {
        assert.equal((await alex.get(path)).status, 200, path);
      }
    };
    assert.equal(await writesDuring(browse), 0);
    t.clock.advance(MINUTE);
    assert.equal(await writesDuring(browse), 1);
    assert.equal(await writesDuring(browse), 0);
  });

  it('downloading a file writes nothing, in the portal or the agent app', async () => {
    const fileId = await anAttachment(ticket, { name: 'notes.txt', content: Buffer.from('hi\n') });
    const jo = new Browser(t);
    await jo.signIn('jo@example.com');
    const alex = new Browser(t);
    assert.equal((await alex.signInAgent('alex@acme.test', PASSWORD)).status, 303);
    const downloads = async () => {
      for (let round = 0; round < 3; round += 1) {
        const mine = await jo.get(`/tickets/${ticket.reference}/attachments/${fileId}`);
        assert.equal(mine.status, 200);
        const agents = await alex.get(`/admin/tickets/${ticket.reference}/attachments/${fileId}`);
        assert.equal(agents.status, 200);
        const stranger = await request(t.app)
          .get(`/tickets/${ticket.reference}/attachments/${fileId}`)
          .set('Host', 'acme.localhost')
          .redirects(0);
        assert.equal(stranger.status, 303);
      }
    };
    assert.equal(await writesDuring(downloads), 0);
  });

  it('an admin’s erasure requests page writes nothing, also with a request pending', async () => {
    const jo = new Browser(t);
    await jo.signIn('jo@example.com');
    assert.equal((await jo.submit('/tickets/your-data', '/tickets/your-data/erasure')).status, 303);
    await anAgentWithPassword(acme, {
      email: 'ada@acme.test',
      password: PASSWORD,
      role: 'admin',
    });
    const ada = new Browser(t);
    assert.equal((await ada.signInAgent('ada@acme.test', PASSWORD)).status, 303);
    const page = async () => {
      const res = await ada.get('/admin/settings/erasure-requests');
      assert.equal(res.status, 200);
      assert.match(res.text, /jo@example\.com/);
    };
    assert.equal(await writesDuring(page), 0);
  });

  it('an admin’s language and time zone page writes nothing, nor does a customer’s own zone', async () => {
    await anAgentWithPassword(acme, {
      email: 'ada@acme.test',
      password: PASSWORD,
      role: 'admin',
    });
    const ada = new Browser(t);
    assert.equal((await ada.signInAgent('ada@acme.test', PASSWORD)).status, 303);
    const saved = await ada.submit('/admin/settings/regional', '/admin/settings/regional', {
      defaultLanguage: 'es',
      timeZone: 'Europe/Madrid',
    });
    assert.equal(saved.status, 303);
    const jo = new Browser(t);
    await jo.signIn('jo@example.com');
    const chosen = await jo.submit('/tickets/preferences', '/tickets/preferences', {
      timeZone: 'Asia/Tokyo',
    });
    assert.equal(chosen.status, 303);
    // The notice after each save is spent by its first view, which clears a cookie only.
    const pages = async () => {
      assert.equal((await ada.get('/admin/settings/regional')).status, 200);
      assert.equal((await ada.get(`/admin/tickets/${ticket.reference}`)).status, 200);
      assert.equal((await jo.get('/tickets/preferences')).status, 200);
      const thread = await jo.get(`/tickets/${ticket.reference}`);
      assert.match(thread.text, /GMT\+9/, 'in the customer’s own zone');
    };
    assert.equal(await writesDuring(pages), 0);
    assert.equal(await writesDuring(pages), 0);
  });

  it('idle expiry still holds to the minute', async () => {
    const jo = new Browser(t);
    await jo.signIn('jo@example.com');
    const signedIn = async () => /Signed in as/.test((await jo.get('/tickets')).text);
    t.clock.advance(2 * MINUTE);
    assert.ok(await signedIn(), 'used two minutes after signing in');
    // Seven days less a minute after that use: still live. Two minutes later: idle too long.
    t.clock.advance(7 * 24 * 60 * MINUTE - MINUTE);
    assert.ok(await signedIn(), 'still signed in just under seven days after the last use');
    t.clock.advance(7 * 24 * 60 * MINUTE + MINUTE);
    assert.equal(await signedIn(), false, 'signed out seven days after the last use');
  });
});

describe('one transaction a page', () => {
  let t: TestApp;
  let ticket: TicketFixture;
  let statements: string[];
  const record = (query: { sql: string }) => statements.push(query.sql);

  beforeEach(async () => {
    t = makeTestApp();
    const acme = await aWorkspace('acme');
    const jo = await aRequester(acme, 'jo@example.com', 'Jo');
    ticket = await aTicket(acme, jo, { subject: 'Printer on fire' });
    await anAgentWithPassword(acme, { email: 'alex@acme.test', password: PASSWORD });
    statements = [];
    testDatabase().db.on('query', record);
  });

  afterEach(() => {
    testDatabase().db.off('query', record);
  });

  async function statementsOf(browser: Browser, path: string): Promise<string[]> {
    statements = [];
    const res = await browser.get(path);
    assert.equal(res.status, 200, path);
    return statements.map((sql) => sql.trim().split(/\s+/)[0]!.toLowerCase());
  }

  it('a signed-in customer’s list and ticket page: tenant, scope, viewer and data in one transaction', async () => {
    const jo = new Browser(t);
    await jo.signIn('jo@example.com');
    for (const path of ['/tickets', '/tickets?q=fire', `/tickets/${ticket.reference}`]) {
      const seen = await statementsOf(jo, path);
      assert.equal(
        seen.filter((s) => s.startsWith('begin')).length,
        1,
        `${path}: ${seen.join(', ')}`,
      );
      assert.equal(
        seen.filter((s) => s.startsWith('commit')).length,
        1,
        `${path}: ${seen.join(', ')}`,
      );
      // BEGIN, the workspace with the scope, the requester, the page's rows (the ticket and its
      // thread on a ticket page), COMMIT.
      assert.ok(seen.length <= 6, `${path}: ${seen.join(', ')}`);
    }
  });

  it('an agent’s inbox and ticket page: one transaction each', async () => {
    const alex = new Browser(t);
    await alex.signInAgent('alex@acme.test', PASSWORD);
    for (const path of ['/admin/tickets', `/admin/tickets/${ticket.reference}`]) {
      const seen = await statementsOf(alex, path);
      assert.equal(
        seen.filter((s) => s.startsWith('begin')).length,
        1,
        `${path}: ${seen.join(', ')}`,
      );
    }
  });
});
