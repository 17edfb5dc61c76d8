import assert from 'node:assert/strict';
import request from 'supertest';
import { makeTestApp, type TestApp } from '../helpers/app';
import { $, Browser, csrfTokenOf } from '../helpers/client';
import {
  aRequester,
  aTicket,
  anAgentWithPassword,
  aWorkspace,
  rows,
  type TicketFixture,
} from '../helpers/fixtures';

const PASSWORD = 'a long enough password';
const REGIONAL = '/admin/settings/regional';

interface Regional {
  default_language: string;
  time_zone: string;
}

async function regional(): Promise<Regional> {
  const [row] = await rows<Regional>(
    "select default_language, time_zone from workspaces where slug = 'acme'",
  );
  return row!;
}

async function auditEvents(): Promise<{ action: string; details: Record<string, unknown> }[]> {
  return rows("select action, details from audit_events where action = 'branding.changed'");
}

/*
 * Settings → Language and time zone (#12 points 2 and 3): the portal's default language and the
 * workspace's time zone, which every time in both apps then follows.
 */
describe('agent app settings: language and time zone', () => {
  let t: TestApp;
  let ticket: TicketFixture;

  beforeEach(async () => {
    t = makeTestApp();
    const acme = await aWorkspace('acme');
    const jo = await aRequester(acme, 'jo@example.com', 'Jo');
    // Opened at 09:00 UTC.
    ticket = await aTicket(acme, jo, { subject: 'Printer on fire' });
    await anAgentWithPassword(acme, { email: 'ada@acme.test', password: PASSWORD, role: 'admin' });
    await anAgentWithPassword(acme, { email: 'alex@acme.test', password: PASSWORD });
  });

  async function signedIn(email: string): Promise<Browser> {
    const browser = new Browser(t);
    assert.equal((await browser.signInAgent(email, PASSWORD)).status, 303);
    return browser;
  }

  async function agentTicketTime(browser: Browser): Promise<{ text: string; datetime: string }> {
    const res = await browser.get(`/admin/tickets/${ticket.reference}`);
    assert.equal(res.status, 200);
    const time = $(res.text)('dd time').first();
    return { text: time.text(), datetime: time.attr('datetime') ?? '' };
  }

  it('shows English and UTC to start with, from the Settings navigation', async () => {
    const ada = await signedIn('ada@acme.test');
    const modules = $((await ada.get('/admin/settings/modules')).text);
    assert.equal(
      modules(`nav[aria-label=Settings] a[href="${REGIONAL}"]`).text(),
      'Language and time zone',
    );
    const res = await ada.get(REGIONAL);
    assert.equal(res.status, 200);
    const page = $(res.text);
    assert.equal(page('h1').text(), 'Language and time zone');
    assert.equal(page(`nav[aria-label=Settings] a[aria-current=page]`).attr('href'), REGIONAL);
    assert.equal(
      page('label[for=defaultLanguage]').text(),
      'Default language of the Tickets Portal',
    );
    assert.deepEqual(
      page('#defaultLanguage option')
        .map((_, o) => `${page(o).attr('value')} ${page(o).attr('lang')} ${page(o).text()}`)
        .get(),
      ['en en English', 'ar ar العربية', 'de de Deutsch', 'es es Español'],
    );
    assert.equal(page('#defaultLanguage option[selected]').attr('value'), 'en');
    assert.equal(page('#timeZone option[selected]').text(), 'UTC (Coordinated Universal Time)');
    assert.ok(page('#timeZone optgroup[label=Americas] option').length > 100);
    assert.deepEqual(await agentTicketTime(ada), {
      text: '25 Nov 2026, 09:00 UTC',
      datetime: '2026-11-25T09:00:00.000Z',
    });
  });

  it('saves both, records who changed what, and every time in both apps follows the zone', async () => {
    const ada = await signedIn('ada@acme.test');
    const saved = await ada.submit(REGIONAL, REGIONAL, {
      defaultLanguage: 'es',
      timeZone: 'Madrid',
    });
    assert.equal(saved.status, 303);
    assert.equal(saved.headers.location, REGIONAL);
    assert.deepEqual(await regional(), { default_language: 'es', time_zone: 'Europe/Madrid' });

    const page = $((await ada.get(REGIONAL)).text);
    assert.equal(
      page('[role=status]').text().trim(),
      'Your language and time zone settings were saved.',
    );
    assert.equal(page('#defaultLanguage option[selected]').attr('value'), 'es');
    assert.equal(page('#timeZone option[selected]').text(), 'Madrid');

    assert.deepEqual(await auditEvents(), [
      {
        action: 'branding.changed',
        details: {
          languageFrom: 'en',
          languageTo: 'es',
          timeZoneFrom: 'UTC',
          timeZoneTo: 'Europe/Madrid',
        },
      },
    ]);
    const trail = $((await ada.get('/admin/settings/audit')).text);
    const row = trail('tbody tr')
      .map((_, tr) => trail(tr).text().replace(/\s+/g, ' '))
      .get()
      .find((text) => text.includes('Workspace settings changed'));
    assert.ok(row, 'the change is on the trail');
    assert.match(
      row,
      /Portal default language from en to es; Time zone from UTC to Europe\/Madrid/,
    );
    assert.match(row, /25 Nov 2026, 11:00 CET/, 'the trail itself in the zone');

    // The agent app: the workspace's zone for everyone on the team.
    assert.deepEqual(await agentTicketTime(ada), {
      text: '25 Nov 2026, 10:00 CET',
      datetime: '2026-11-25T09:00:00.000Z',
    });
    assert.equal(
      (await agentTicketTime(await signedIn('alex@acme.test'))).text,
      '25 Nov 2026, 10:00 CET',
    );

    // The portal: a visitor whose browser asks for no language gets Spanish, in Madrid time.
    const login = await request(t.app).get('/tickets/login').set('Host', 'acme.localhost');
    assert.equal(login.headers['content-language'], 'es');
    const jo = new Browser(t);
    await jo.signIn('jo@example.com');
    const thread = $((await jo.get(`/tickets/${ticket.reference}`)).text);
    assert.equal(thread('.message-meta time').first().text(), '25 nov 2026, 10:00 CET');
    assert.equal(thread('.message-meta time').first().attr('datetime'), '2026-11-25T09:00:00.000Z');
  });

  it('takes the zone by its IANA name too; saving what is already saved records nothing', async () => {
    const ada = await signedIn('ada@acme.test');
    const form = { defaultLanguage: 'de', timeZone: 'America/New_York' };
    assert.equal((await ada.submit(REGIONAL, REGIONAL, form)).status, 303);
    assert.equal((await ada.submit(REGIONAL, REGIONAL, form)).status, 303);
    assert.deepEqual(await regional(), { default_language: 'de', time_zone: 'America/New_York' });
    assert.equal((await auditEvents()).length, 1);
    assert.equal((await agentTicketTime(ada)).text, '25 Nov 2026, 04:00 GMT-5');
  });

  for (const [what, form, fields] of [
    ['an unknown zone', { defaultLanguage: 'es', timeZone: 'Europe/Atlantis' }, ['timeZone']],
    [
      'a language the portal does not speak',
      { defaultLanguage: 'fr', timeZone: 'UTC' },
      ['defaultLanguage'],
    ],
    ['neither', { defaultLanguage: 'EN', timeZone: 'utc' }, ['defaultLanguage', 'timeZone']],
    ['nothing at all', {}, ['defaultLanguage', 'timeZone']],
  ] as const) {
    it(`refuses ${what} with the GOV.UK errors (422) and saves nothing`, async () => {
      const ada = await signedIn('ada@acme.test');
      const res = await ada.submit(REGIONAL, REGIONAL, form);
      assert.equal(res.status, 422);
      const page = $(res.text);
      assert.match(page('title').text(), /^Error: Language and time zone/);
      assert.deepEqual(
        page('.error-summary a')
          .map((_, a) => page(a).attr('href'))
          .get(),
        fields.map((f) => `#${f}`),
      );
      for (const field of fields) {
        assert.match(page(`#${field}-error`).text(), /Choose .* from the list/);
        assert.match(
          page(`#${field}`).attr('aria-describedby') ?? '',
          new RegExp(`${field}-error`),
        );
        assert.equal(page(`#${field}`).attr('aria-invalid'), 'true');
      }
      assert.deepEqual(await regional(), { default_language: 'en', time_zone: 'UTC' });
      assert.deepEqual(await auditEvents(), []);
    });
  }

  it('keeps the valid half of a refused form', async () => {
    const ada = await signedIn('ada@acme.test');
    const res = await ada.submit(REGIONAL, REGIONAL, {
      defaultLanguage: 'ar',
      timeZone: 'Nowhere',
    });
    assert.equal(res.status, 422);
    assert.equal($(res.text)('#defaultLanguage option[selected]').attr('value'), 'ar');
    assert.equal($(res.text)('#timeZone option[selected]').attr('value'), 'UTC');
  });

  it('is for admins only: an agent gets 403, a signed-out browser the sign-in page; nothing changes', async () => {
    const alex = await signedIn('alex@acme.test');
    const inbox = await alex.get('/admin/tickets');
    assert.equal($(inbox.text)(`a[href="${REGIONAL}"]`).length, 0);
    assert.equal((await alex.get(REGIONAL)).status, 403);
    const post = await alex.post(REGIONAL, {
      _csrf: csrfTokenOf(inbox.text),
      defaultLanguage: 'es',
      timeZone: 'Europe/Madrid',
    });
    assert.equal(post.status, 403);
    const stranger = new Browser(t);
    const page = await stranger.get(REGIONAL);
    assert.equal(page.status, 303);
    assert.equal(page.headers.location, '/admin/login');
    const token = csrfTokenOf((await stranger.get('/admin/login')).text);
    const posted = await stranger.post(REGIONAL, {
      _csrf: token,
      defaultLanguage: 'es',
      timeZone: 'Europe/Madrid',
    });
    assert.equal(posted.status, 303);
    assert.equal(posted.headers.location, '/admin/login');
    assert.deepEqual(await regional(), { default_language: 'en', time_zone: 'UTC' });
    assert.deepEqual(await auditEvents(), []);
  });
});
