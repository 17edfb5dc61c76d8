import assert from 'node:assert/strict';
import { crc32, deflateSync } from 'node:zlib';
import { withScope } from '../../src/db/scopes';
import type { User } from '../../src/models/users';
import type { Workspace } from '../../src/models/workspaces';
import * as auditEvents from '../../src/models/audit-events';
import { pruneAuditTrail } from '../../src/services/audit-trail';
import { hashPassword } from '../../src/services/passwords';
import { createUserAccount } from '../../src/services/user-accounts';
import { setPortalEnabled } from '../../src/services/workspaces';
import { DAY, makeTestApp, testConfig, type TestApp } from '../helpers/app';
import { $, Browser, csrfTokenOf, signInCodeOf } from '../helpers/client';
import { testDatabase } from '../helpers/database';
import { anAgent, aRequester, aWorkspace, rows } from '../helpers/fixtures';

const PASSWORD = 'a long enough password';
const AUDIT = '/admin/settings/audit';

interface EventRow {
  action: string;
  actor_kind: string;
  actor_id: string | null;
  actor_label: string;
  subject_id: string | null;
  subject_label: string;
  ip: string | null;
  details: Record<string, unknown>;
  occurred_at: Date;
}

/** Every event, oldest first; the fake clock stands still, so ties go by transaction (xmin). */
function events(): Promise<EventRow[]> {
  return rows<EventRow>(
    `select action, actor_kind, actor_id, actor_label, subject_id, subject_label,
            host(ip) as ip, details, occurred_at
       from audit_events order by occurred_at, xmin::text::bigint`,
  );
}

async function actions(): Promise<string[]> {
  return (await events()).map((e) => e.action);
}

/** A valid 1×1 PNG. */
function png(): Buffer {
  const chunk = (type: string, data: Buffer): Buffer => {
    const length = Buffer.alloc(4);
    length.writeUInt32BE(data.length);
    const body = Buffer.concat([Buffer.from(type, 'latin1'), data]);
    const crc = Buffer.alloc(4);
    crc.writeUInt32BE(crc32(body));
    return Buffer.concat([length, body, crc]);
  };
  const header = Buffer.alloc(13);
  header.writeUInt32BE(1, 0);
  header.writeUInt32BE(1, 4);
  header[8] = 8;
  header[9] = 6;
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk('IHDR', header),
    chunk('IDAT', deflateSync(Buffer.from([0, 0x1d, 0x70, 0xb8, 0xff]))),
    chunk('IEND', Buffer.alloc(0)),
  ]);
}

describe('audit trail: events recorded', () => {
  let t: TestApp;
  let acme: Workspace;
  let passwordHash: string;

  before(async () => {
    passwordHash = await hashPassword(PASSWORD);
  });

  beforeEach(async () => {
    t = makeTestApp();
    acme = await aWorkspace('acme', { portal: true, name: 'Acme Inc' });
  });

  async function signedIn(role: 'admin' | 'agent'): Promise<{ browser: Browser; user: User }> {
    const user = await anAgent(acme, {
      email: `${role}@acme.test`,
      name: `Sam ${role}`,
      role,
      passwordHash,
    });
    const browser = new Browser(t);
    assert.equal((await browser.signInAgent(user.email, PASSWORD)).status, 303);
    return { browser, user };
  }

  describe('in the portal', () => {
    it('a sign-in link requested and used: the visitor, then the requester, with IP and app-clock time', async () => {
      const jo = await aRequester(acme, 'jo@example.com', 'Jo');
      const browser = new Browser(t);
      t.clock.advance(5 * 60_000);
      assert.equal((await browser.signIn('Jo@Example.com')).status, 303);
      const [requested, used] = await events();
      assert.deepEqual(
        { ...requested, occurred_at: requested!.occurred_at.toISOString() },
        {
          action: 'portal.signin_link_requested',
          actor_kind: 'visitor',
          actor_id: null,
          actor_label: 'jo@example.com',
          subject_id: null,
          subject_label: '',
          ip: '127.0.0.1',
          details: {},
          occurred_at: t.clock.now().toISOString(),
        },
      );
      assert.equal(used!.action, 'portal.signin_link_used');
      assert.equal(used!.actor_kind, 'requester');
      assert.equal(used!.actor_id, jo.id);
      assert.equal(used!.actor_label, 'jo@example.com');
    });

    it('records a request for an unknown address exactly like one for a customer’s, without looking it up', async () => {
      await aRequester(acme, 'jo@example.com', 'Jo');
      const browser = new Browser(t);
      await browser.submit('/tickets/login', '/tickets/login', { email: 'jo@example.com' });
      await browser.submit('/tickets/login', '/tickets/login', { email: 'nobody@example.com' });
      const [known, unknown] = await events();
      const shape = (e: EventRow | undefined) => ({ ...e, actor_label: undefined });
      assert.deepEqual(shape(known), shape(unknown));
      assert.deepEqual(
        [known!.actor_label, unknown!.actor_label],
        ['jo@example.com', 'nobody@example.com'],
      );
    });

    it('records nothing for a refused request: a bad address, a second within the minute, a 429', async () => {
      const browser = new Browser(t);
      assert.equal(
        (await browser.submit('/tickets/login', '/tickets/login', { email: 'not an address' }))
          .status,
        422,
      );
      assert.deepEqual(await actions(), []);
      await browser.submit('/tickets/login', '/tickets/login', { email: 'jo@example.com' });
      await browser.submit('/tickets/login', '/tickets/login', { email: 'jo@example.com' });
      assert.deepEqual(
        await actions(),
        ['portal.signin_link_requested'],
        'no second mail, no event',
      );
      const limited = makeTestApp({ env: { SIGNIN_PER_IP_PER_HOUR: '1' } });
      const other = new Browser(limited);
      await rows('truncate rate_limits');
      await other.submit('/tickets/login', '/tickets/login', { email: 'a@example.com' });
      const refused = await other.submit('/tickets/login', '/tickets/login', {
        email: 'b@example.com',
      });
      assert.equal(refused.status, 429);
      assert.deepEqual(
        (await events()).map((e) => e.actor_label),
        ['jo@example.com', 'a@example.com'],
      );
    });

    it('records nothing for a link that is garbled, unknown or already used', async () => {
      const browser = new Browser(t);
      await browser.signIn('jo@example.com');
      const before = await actions();
      for (const token of ['garbled', 'A'.repeat(43)]) {
        const path = `/tickets/login/${token}`;
        const res = await browser.post(path, {
          _csrf: csrfTokenOf((await browser.get('/tickets/new')).text),
        });
        assert.equal(res.status, 410, token);
      }
      assert.deepEqual(await actions(), before);
    });

    it('an anonymous ticket: the address as typed and the ticket; an invalid form records nothing', async () => {
      const browser = new Browser(t);
      const bad = await browser.submit('/tickets/new', '/tickets/new', {
        name: 'Jo',
        email: 'jo@example.com',
        subject: '',
        description: 'Help',
      });
      assert.equal(bad.status, 422);
      assert.deepEqual(await actions(), []);
      const ok = await browser.submit('/tickets/new', '/tickets/new', {
        name: 'Jo',
        email: 'jo@example.com',
        subject: 'Broken',
        description: 'Help',
      });
      assert.equal(ok.status, 303);
      const [event] = await events();
      const [ticket] = await rows<{ id: string }>('select id from tickets');
      assert.equal(event!.action, 'portal.ticket_opened_anonymously');
      assert.equal(event!.actor_kind, 'visitor');
      assert.equal(event!.actor_label, 'jo@example.com');
      assert.equal(event!.subject_id, ticket!.id);
      assert.equal(event!.subject_label, 'ACME-1001');
    });

    it('a ticket a signed-in requester opens, or one an agent opens for a customer, is no anonymous ticket', async () => {
      const browser = new Browser(t);
      await browser.signIn('jo@example.com');
      await browser.submit('/tickets/new', '/tickets/new', { subject: 'Mine', description: 'x' });
      const { browser: agent } = await signedIn('agent');
      const res = await agent.submit('/admin/tickets/new', '/admin/tickets/new', {
        email: 'sam@example.com',
        name: 'Sam',
        subject: 'Phone call',
        body: 'x',
      });
      assert.equal(res.status, 303);
      assert.equal((await rows('select id from tickets')).length, 2);
      assert.ok(!(await actions()).includes('portal.ticket_opened_anonymously'));
    });
  });

  describe('in the agent app', () => {
    it('a sign-in and a sign-out, by the user', async () => {
      const { browser, user } = await signedIn('agent');
      const page = await browser.get('/admin/tickets');
      await browser.post('/admin/logout', { _csrf: csrfTokenOf(page.text) });
      const recorded = await events();
      assert.deepEqual(
        recorded.map((e) => [e.action, e.actor_kind, e.actor_id, e.actor_label]),
        [
          ['agent.signin_succeeded', 'user', user.id, 'agent@acme.test'],
          ['agent.signed_out', 'user', user.id, 'agent@acme.test'],
        ],
      );
    });

    it('failed sign-ins: a wrong password names the account, an unknown address is not kept, a bad form is nothing', async () => {
      const user = await anAgent(acme, { email: 'alex@acme.test', passwordHash });
      const browser = new Browser(t);
      assert.equal((await browser.signInAgent('alex@acme.test', 'wrong password!')).status, 422);
      assert.equal((await browser.signInAgent('ghost@acme.test', PASSWORD)).status, 422);
      assert.equal((await browser.signInAgent('alex@acme.test', '')).status, 422);
      const recorded = await events();
      assert.deepEqual(
        recorded.map((e) => [e.action, e.actor_kind, e.actor_label, e.subject_id, e.details]),
        [
          ['agent.signin_failed', 'visitor', '', user.id, { reason: 'wrong password' }],
          ['agent.signin_failed', 'visitor', '', null, { reason: 'unknown address' }],
        ],
      );
      assert.ok(!JSON.stringify(recorded).includes('ghost'), 'the unknown address is not kept');
    });

    it('a lock-out is recorded once, when it begins, and refused attempts after it add nothing', async function () {
      this.timeout(20_000);
      const user = await anAgent(acme, { email: 'alex@acme.test', passwordHash });
      const browser = new Browser(t);
      for (let i = 0; i < 5; i += 1) await browser.signInAgent('alex@acme.test', 'wrong password!');
      assert.equal((await browser.signInAgent('alex@acme.test', PASSWORD)).status, 429);
      assert.equal((await browser.signInAgent('alex@acme.test', PASSWORD)).status, 429);
      const recorded = await events();
      assert.deepEqual(
        recorded.map((e) => e.action),
        [...Array<string>(5).fill('agent.signin_failed'), 'agent.locked_out'],
      );
      const lock = recorded[5]!;
      assert.equal(lock.subject_id, user.id);
      assert.deepEqual(lock.details, { limit: 'account' });
    });

    it('the portal switch: on and off recorded with who; saving the same state or a bad value records nothing', async () => {
      const { browser, user } = await signedIn('admin');
      const start = (await events()).length;
      const save = (form: Record<string, string>) =>
        browser.submit('/admin/settings/modules', '/admin/settings/modules', form);
      assert.equal((await save({ portal: 'on' })).status, 303, 'already on: nothing changes');
      assert.equal((await save({ portal: 'yes' })).status, 422);
      assert.equal((await save({})).status, 303);
      assert.equal((await save({ portal: 'on' })).status, 303);
      const recorded = (await events()).slice(start);
      assert.deepEqual(
        recorded.map((e) => [e.action, e.actor_id, e.subject_label, e.details]),
        [
          ['module.changed', user.id, 'Tickets Portal', { module: 'portal', enabled: false }],
          ['module.changed', user.id, 'Tickets Portal', { module: 'portal', enabled: true }],
        ],
      );
    });

    it('the address-confirmation setting: on and off recorded with who and shown in words; unchanged saves record nothing', async () => {
      const { browser, user } = await signedIn('admin');
      const start = (await events()).length;
      const save = (form: Record<string, string>) =>
        browser.submit('/admin/settings/modules', '/admin/settings/modules', form);
      assert.equal((await save({ portal: 'on', confirmEmail: 'on' })).status, 303);
      assert.equal((await save({ portal: 'on', confirmEmail: 'on' })).status, 303);
      assert.equal((await save({ portal: 'on', confirmEmail: 'yes' })).status, 422);
      assert.equal((await save({ portal: 'on' })).status, 303);
      const label = 'Confirming the address of tickets opened without signing in';
      const module = 'confirm_anonymous_email';
      assert.deepEqual(
        (await events())
          .slice(start)
          .map((e) => [e.action, e.actor_id, e.subject_label, e.details]),
        [
          ['module.changed', user.id, label, { module, enabled: true }],
          ['module.changed', user.id, label, { module, enabled: false }],
        ],
      );
      const page = $((await browser.get('/admin/settings/audit')).text);
      const described = page('.audit-details')
        .map((_i, el) => page(el).text().trim())
        .get();
      assert.ok(described.includes(`${label} turned on`), described.join(' | '));
      assert.ok(described.includes(`${label} turned off`), described.join(' | '));
    });

    it('branding: name and colour from and to, logo uploaded and removed; refused forms record nothing', async () => {
      const { browser } = await signedIn('admin');
      const start = (await events()).length;
      const branding = '/admin/settings/branding';
      const bad = await browser.submit(branding, branding, { name: 'Acme', colour: 'red' });
      assert.equal(bad.status, 422);
      const same = await browser.submit(branding, branding, {
        name: 'Acme Inc',
        colourPicker: '#1d70b8',
      });
      assert.equal(same.status, 303, 'saved unchanged');
      const changed = await browser.submit(branding, branding, {
        name: 'Acme Ltd',
        colour: '#AA0000',
      });
      assert.equal(changed.status, 303);

      const token = csrfTokenOf((await browser.get(branding)).text);
      const upload = (content: Buffer) =>
        browser.agent
          .post(`${branding}/logo`)
          .set('Host', browser.host)
          .field('_csrf', token)
          .attach('logo', content, { filename: 'logo.png', contentType: 'image/png' })
          .redirects(0);
      assert.equal((await upload(Buffer.from('GIF89a not a png'))).status, 422);
      assert.equal((await upload(png())).status, 303);
      const removed = await browser.post(`${branding}/logo/remove`, { _csrf: token });
      assert.equal(removed.status, 303);

      const recorded = (await events()).slice(start);
      assert.deepEqual(
        recorded.map((e) => [e.action, e.details]),
        [
          [
            'branding.changed',
            {
              nameFrom: 'Acme Inc',
              nameTo: 'Acme Ltd',
              colourFrom: '#1d70b8',
              colourTo: '#aa0000',
            },
          ],
          ['logo.changed', { type: 'image/png', bytes: png().length }],
          ['logo.removed', {}],
        ],
      );
    });

    it('a user added: who, the new account and its role, never the password; refused forms record nothing', async () => {
      const { browser, user } = await signedIn('admin');
      const start = (await events()).length;
      const add = (form: Record<string, string>) =>
        browser.submit('/admin/users', '/admin/users', form);
      const form = { name: 'Grace', email: 'grace@acme.test', role: 'agent', password: PASSWORD };
      assert.equal((await add({ ...form, password: 'short' })).status, 422);
      assert.equal((await add({ ...form, email: 'admin@acme.test' })).status, 422, 'duplicate');
      assert.equal((await add(form)).status, 303);
      const recorded = (await events()).slice(start);
      const [grace] = await rows<{ id: string }>('select id from users where email = ?', [
        'grace@acme.test',
      ]);
      assert.deepEqual(
        recorded.map((e) => [e.action, e.actor_id, e.subject_id, e.subject_label, e.details]),
        [['user.created', user.id, grace!.id, 'grace@acme.test', { role: 'agent', name: 'Grace' }]],
      );
    });

    it('the operator’s commands are recorded as the system’s: a portal switch and a user added', async () => {
      const { db } = testDatabase();
      await withScope(db, { kind: 'system' }, async (trx) => {
        await setPortalEnabled(trx, 'acme', false, new Date('2026-11-26T08:00:00Z'));
        await createUserAccount(
          trx,
          testConfig().limits,
          {
            workspaceSlug: 'acme',
            email: 'ops@acme.test',
            name: 'Ops',
            role: 'admin',
            password: PASSWORD,
          },
          new Date('2026-11-26T08:01:00Z'),
        );
      });
      assert.deepEqual(
        (await events()).map((e) => [e.action, e.actor_kind, e.actor_id, e.ip]),
        [
          ['module.changed', 'system', null, null],
          ['user.created', 'system', null, null],
        ],
      );
    });
  });

  describe('the admin page', () => {
    it('lists the events newest first with who, what, details, IP and a machine-readable time', async () => {
      const { browser } = await signedIn('admin');
      t.clock.advance(60_000);
      await browser.submit('/admin/settings/modules', '/admin/settings/modules', {});
      const inbox = await browser.get('/admin/settings/modules');
      assert.ok($(inbox.text)(`nav[aria-label="Settings"] a[href="${AUDIT}"]`).length, 'linked');
      const res = await browser.get(AUDIT);
      assert.equal(res.status, 200);
      const page = $(res.text);
      assert.equal(page('h1').text().trim(), 'Audit trail');
      assert.equal(page(`nav[aria-label="Settings"] a[aria-current="page"]`).attr('href'), AUDIT);
      const headers = page('thead th')
        .map((_i, th) => page(th).text().trim())
        .get();
      assert.deepEqual(headers, ['When', 'Who', 'What', 'Details', 'IP address']);
      const cells = page('tbody tr')
        .toArray()
        .map((tr) =>
          page(tr)
            .find('td')
            .toArray()
            .map((td) => page(td).text().trim()),
        );
      assert.deepEqual(
        cells.map((row) => row.slice(1)),
        [
          ['admin@acme.test', 'Module switched', 'Tickets Portal turned off', '127.0.0.1'],
          ['admin@acme.test', 'Signed in to the agent app', '', '127.0.0.1'],
        ],
      );
      assert.equal(page('tbody time').first().attr('datetime'), t.clock.now().toISOString());
      assert.equal(page('a[rel="next"]').length, 0, 'one page only');
    });

    it('tells a sign-in by the code in the mail from one by its link', async () => {
      const byLink = new Browser(t);
      assert.equal((await byLink.signIn('jo@example.com')).status, 303);
      // A minute later, so the newest-first order of the two events is fixed, not an id's luck.
      t.clock.advance(60_000);
      const byCode = new Browser(t);
      await byCode.submit('/tickets/login', '/tickets/login', { email: 'ann@example.com' });
      const [mail] = await t.deliverMail();
      const codePage = await byCode.get('/tickets/login/code');
      const res = await byCode.post('/tickets/login/code', {
        _csrf: csrfTokenOf(codePage.text),
        code: signInCodeOf(mail!.text),
      });
      assert.equal(res.status, 303);
      const { browser } = await signedIn('admin');
      const page = $((await browser.get(AUDIT)).text);
      const used = page('tbody tr')
        .toArray()
        .map((tr) =>
          page(tr)
            .find('td')
            .toArray()
            .map((td) => page(td).text().trim()),
        )
        .filter((row) => row[2] === 'Signed in from a sign-in email (Tickets Portal)')
        .map((row) => [row[1], row[3]]);
      assert.deepEqual(used, [
        ['ann@example.com (customer)', 'With its code, in the browser that asked'],
        ['jo@example.com (customer)', 'With its link'],
      ]);
    });

    it('pages by keyset: Older events until the oldest, none twice, ties broken by id', async function () {
      this.timeout(20_000);
      const { browser } = await signedIn('admin');
      const { db } = testDatabase();
      const base = new Date('2026-01-01T00:00:00Z').getTime();
      await withScope(db, { kind: 'system' }, async (trx) => {
        for (let i = 0; i < 120; i += 1) {
          await auditEvents.insert(trx, {
            workspaceId: acme.id,
            // Pairs share a time, so the id must break the tie.
            occurredAt: new Date(base + Math.floor(i / 2) * 1000),
            action: 'logo.removed',
            actor: { kind: 'system' },
            ip: null,
          });
        }
      });
      const seen: string[] = [];
      let href: string | undefined = AUDIT;
      const sizes: number[] = [];
      while (href) {
        const res = await browser.get(href);
        assert.equal(res.status, 200, href);
        const page = $(res.text);
        const times = page('tbody time')
          .map((_i, el) => page(el).attr('datetime'))
          .get();
        sizes.push(times.length);
        seen.push(...times);
        href = page('a[rel="next"]').attr('href');
        if (href) assert.match(href, /^\/admin\/settings\/audit\?before=/);
        if (sizes.length > 1) assert.equal(page('a:contains("Newest events")').attr('href'), AUDIT);
      }
      assert.deepEqual(sizes, [25, 25, 25, 25, 21]);
      const sorted = [...seen].sort().reverse();
      assert.deepEqual(seen, sorted, 'newest first across pages');
      assert.equal(seen.filter((s) => s.startsWith('2026-01-01')).length, 120, 'each event once');
      assert.equal((await browser.get(`${AUDIT}?before=nonsense`)).status, 400);
    });

    it('an agent who is not an admin gets the 403 page and no link to it', async () => {
      const { browser } = await signedIn('agent');
      const res = await browser.get(AUDIT);
      assert.equal(res.status, 403);
      assert.equal($(res.text)(`a[href="${AUDIT}"]`).length, 0);
      const out = await new Browser(t).get(AUDIT);
      assert.equal(out.status, 303);
      assert.equal(out.headers.location, '/admin/login');
    });

    it('another workspace’s admin sees only their own workspace’s events', async () => {
      await signedIn('admin');
      const globex = await aWorkspace('globex');
      await anAgent(globex, { email: 'boss@globex.test', role: 'admin', passwordHash });
      const theirs = new Browser(t, 'globex.localhost');
      await theirs.signInAgent('boss@globex.test', PASSWORD);
      const res = await theirs.get(AUDIT);
      assert.equal(res.status, 200);
      const text = $(res.text)('tbody').text();
      assert.match(text, /boss@globex\.test/);
      assert.doesNotMatch(text, /acme/);
    });
  });
});

describe('audit trail: retention', () => {
  it('keeps AUDIT_RETENTION_DAYS days, 365 unless configured', () => {
    assert.equal(testConfig().audit.retentionMs, 365 * DAY);
    assert.equal(testConfig({ AUDIT_RETENTION_DAYS: '30' }).audit.retentionMs, 30 * DAY);
    assert.throws(() => testConfig({ AUDIT_RETENTION_DAYS: '0' }), /AUDIT_RETENTION_DAYS/);
  });

  it('pruning deletes every workspace’s events older than the cutoff and keeps the rest', async () => {
    const acme = await aWorkspace('acme');
    const globex = await aWorkspace('globex');
    const { db } = testDatabase();
    const cutoff = new Date('2026-06-01T00:00:00Z');
    await withScope(db, { kind: 'system' }, async (trx) => {
      for (const workspace of [acme, globex]) {
        for (const at of [
          '2026-05-31T23:59:59.999Z',
          '2026-06-01T00:00:00Z',
          '2026-07-01T00:00:00Z',
        ]) {
          await auditEvents.insert(trx, {
            workspaceId: workspace.id,
            occurredAt: new Date(at),
            action: 'logo.removed',
            actor: { kind: 'system' },
            ip: null,
          });
        }
      }
    });
    const deleted = await withScope(db, { kind: 'system' }, (trx) => pruneAuditTrail(trx, cutoff));
    assert.equal(deleted, 2);
    const left = await rows<{ at: Date }>('select occurred_at as at from audit_events');
    assert.equal(left.length, 4);
    assert.ok(left.every((r) => r.at >= cutoff));
  });
});
