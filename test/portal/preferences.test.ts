import assert from 'node:assert/strict';
import { makeTestApp, type TestApp } from '../helpers/app';
import { $, Browser } from '../helpers/client';
import { aRequester, aTicket, aWorkspace, rows, type TicketFixture } from '../helpers/fixtures';

const PREFERENCES = '/tickets/preferences';

/*
 * A signed-in customer's own time zone (#12 point 3): the page, its form, and the zone winning
 * over the workspace's on every portal page, in this session and the next.
 */
describe('portal preferences: the customer’s own time zone', () => {
  let t: TestApp;
  let ticket: TicketFixture;

  beforeEach(async () => {
    t = makeTestApp();
    const acme = await aWorkspace('acme', { timeZone: 'Europe/Madrid' });
    const jo = await aRequester(acme, 'jo@example.com', 'Jo');
    // Opened at 09:00 UTC: 10:00 in Madrid, 18:00 in Tokyo.
    ticket = await aTicket(acme, jo, { subject: 'Printer on fire' });
  });

  async function signedInJo(): Promise<Browser> {
    // One sign-in mail a minute an address (in real time): a second sign-in starts afresh.
    await rows('truncate rate_limits');
    const jo = new Browser(t);
    await jo.signIn('jo@example.com');
    return jo;
  }

  async function savedZone(): Promise<string | null> {
    const [row] = await rows<{ time_zone: string | null }>(
      "select time_zone from requesters where email = 'jo@example.com'",
    );
    return row!.time_zone;
  }

  /** The ticket page's first message time: its words and its datetime attribute. */
  async function ticketTime(browser: Browser): Promise<{ text: string; datetime: string }> {
    const res = await browser.get(`/tickets/${ticket.reference}`);
    assert.equal(res.status, 200);
    const time = $(res.text)('.message-meta time').first();
    return { text: time.text(), datetime: time.attr('datetime') ?? '' };
  }

  function selected(html: string): string {
    return $(html)('#timeZone option[selected]').text();
  }

  it('is linked from the signed-in navigation and starts on the workspace’s zone', async () => {
    const jo = await signedInJo();
    const home = $((await jo.get('/tickets')).text);
    assert.equal(home('nav a[href="/tickets/preferences"]').text(), 'Preferences');
    const res = await jo.get(PREFERENCES);
    assert.equal(res.status, 200);
    const page = $(res.text);
    assert.equal(page('h1').text(), 'Your preferences');
    assert.equal(page('title').text(), 'Your preferences – Acme Inc');
    assert.equal(page('label[for=timeZone]').text(), 'Time zone');
    assert.equal(page('#timeZone').attr('aria-describedby'), 'timeZone-hint');
    assert.equal(selected(res.text), 'Use Acme Inc’s time zone (Europe/Madrid)');
    assert.equal(page('#timeZone option').first().attr('value'), '');
    assert.ok(page('#timeZone optgroup[label=Europe] option').length > 50);
    assert.deepEqual(await ticketTime(jo), {
      text: '25 Nov 2026, 10:00 CET',
      datetime: '2026-11-25T09:00:00.000Z',
    });
  });

  it('saves a chosen zone, which then wins on every page, also after signing in again', async () => {
    const jo = await signedInJo();
    const saved = await jo.submit(PREFERENCES, PREFERENCES, { timeZone: 'Tokyo' });
    assert.equal(saved.status, 303);
    assert.equal(saved.headers.location, PREFERENCES);
    assert.equal(await savedZone(), 'Asia/Tokyo');

    const page = await jo.get(PREFERENCES);
    assert.equal($(page.text)('[role=status]').text().trim(), 'Your preferences have been saved.');
    assert.equal(selected(page.text), 'Tokyo');
    assert.deepEqual(await ticketTime(jo), {
      text: '25 Nov 2026, 18:00 GMT+9',
      datetime: '2026-11-25T09:00:00.000Z',
    });

    // A new sign-in elsewhere takes the choice from the requester.
    const later = await signedInJo();
    assert.equal((await ticketTime(later)).text, '25 Nov 2026, 18:00 GMT+9');
    assert.equal(selected((await later.get(PREFERENCES)).text), 'Tokyo');
  });

  it('takes UTC and an IANA name as well as a place', async () => {
    const jo = await signedInJo();
    assert.equal((await jo.submit(PREFERENCES, PREFERENCES, { timeZone: 'UTC' })).status, 303);
    assert.equal(await savedZone(), 'UTC');
    assert.equal((await ticketTime(jo)).text, '25 Nov 2026, 09:00 UTC');
    const ny = await jo.submit(PREFERENCES, PREFERENCES, { timeZone: 'America/New_York' });
    assert.equal(ny.status, 303);
    assert.equal((await ticketTime(jo)).text, '25 Nov 2026, 04:00 GMT-5');
  });

  it('the first choice clears theirs: back to the workspace’s zone, now and at the next sign-in', async () => {
    const jo = await signedInJo();
    await jo.submit(PREFERENCES, PREFERENCES, { timeZone: 'Tokyo' });
    const cleared = await jo.submit(PREFERENCES, PREFERENCES, { timeZone: '' });
    assert.equal(cleared.status, 303);
    assert.equal(await savedZone(), null);
    assert.equal((await ticketTime(jo)).text, '25 Nov 2026, 10:00 CET');
    assert.equal((await ticketTime(await signedInJo())).text, '25 Nov 2026, 10:00 CET');
    // The workspace's zone is followed, not copied: a change there reaches the customer.
    await rows("update workspaces set time_zone = 'America/New_York'");
    assert.equal((await ticketTime(jo)).text, '25 Nov 2026, 04:00 GMT-5');
  });

  for (const [what, form] of [
    ['a zone that does not exist', { timeZone: 'Atlantis' }],
    ['a region alone', { timeZone: 'Europe' }],
    ['no zone at all', {}],
    ['two zones', { timeZone: ['Tokyo', 'Madrid'] }],
  ] as const) {
    it(`refuses ${what} with the form again (422) and saves nothing`, async () => {
      const jo = await signedInJo();
      await jo.submit(PREFERENCES, PREFERENCES, { timeZone: 'Tokyo' });
      const token = $((await jo.get(PREFERENCES)).text)('input[name=_csrf]').val() as string;
      const res = await jo.agent
        .post(PREFERENCES)
        .set('Host', 'acme.localhost')
        .type('form')
        .send({ _csrf: token, ...form })
        .redirects(0);
      assert.equal(res.status, 422);
      const page = $(res.text);
      assert.match(page('title').text(), /^Error: Your preferences/);
      assert.equal(page('.error-summary a').attr('href'), '#timeZone');
      assert.equal(page('.error-summary a').text(), 'Choose a time zone from the list');
      assert.match(page('#timeZone-error').text(), /Choose a time zone from the list/);
      assert.equal(page('#timeZone').attr('aria-describedby'), 'timeZone-hint timeZone-error');
      assert.equal(await savedZone(), 'Asia/Tokyo', 'unchanged');
      assert.equal((await ticketTime(jo)).text, '25 Nov 2026, 18:00 GMT+9', 'session unchanged');
    });
  }

  it('speaks the page’s language and writes its times that way', async () => {
    const jo = await signedInJo();
    const headers = { 'Accept-Language': 'es' };
    const page = $(
      (await jo.agent.get(PREFERENCES).set({ Host: 'acme.localhost', ...headers })).text,
    );
    assert.equal(page('h1').text(), 'Sus preferencias');
    assert.equal(page('label[for=timeZone]').text(), 'Zona horaria');
    assert.equal(
      page('#timeZone option[selected]').text(),
      'Usar la zona horaria de Acme Inc (Europe/Madrid)',
    );
    assert.ok(page('#timeZone optgroup[label="Océano Pacífico"]').length);
    const thread = $(
      (
        await jo.agent
          .get(`/tickets/${ticket.reference}`)
          .set({ Host: 'acme.localhost', ...headers })
      ).text,
    );
    assert.equal(thread('.message-meta time').first().text(), '25 nov 2026, 10:00 CET');
  });

  it('is for signed-in customers only: anyone else is sent to sign in and saves nothing', async () => {
    const visitor = new Browser(t);
    await visitor.submit('/tickets/new', '/tickets/new', {
      name: 'Sam',
      email: 'sam@example.com',
      subject: 'Hello',
      description: 'Anonymous.',
    });
    for (const browser of [new Browser(t), visitor]) {
      const page = await browser.get(PREFERENCES);
      assert.equal(page.status, 303);
      assert.equal(page.headers.location, '/tickets/login');
      const token = $((await browser.get('/tickets/login')).text)('input[name=_csrf]').val();
      const post = await browser.post(PREFERENCES, { _csrf: String(token), timeZone: 'Tokyo' });
      assert.equal(post.status, 303);
      assert.equal(post.headers.location, '/tickets/login');
    }
    assert.deepEqual(await rows('select 1 from requesters where time_zone is not null'), []);
  });

  it('anonymous pages show times in the workspace’s zone', async () => {
    const sam = new Browser(t);
    const opened = await sam.submit('/tickets/new', '/tickets/new', {
      name: 'Sam',
      email: 'sam@example.com',
      subject: 'Hello',
      description: 'Anonymous.',
    });
    const own = $((await sam.get(opened.headers.location as string)).text);
    // The fake clock stands at 10:00 UTC: 11:00 in Madrid.
    assert.equal(own('.message-meta time').first().text(), '25 Nov 2026, 11:00 CET');
  });
});
