import assert from 'node:assert/strict';
import { makeTestApp, type TestApp } from '../helpers/app';
import { $, Browser } from '../helpers/client';
import { aRequester, aTicket, anAgent, aWorkspace, rows } from '../helpers/fixtures';
import type { Workspace } from '../../src/models/workspaces';
import { hashPassword } from '../../src/services/passwords';

const STATEMENT = '/tickets/accessibility';
const BRANDING = '/admin/settings/branding';
const CONTACT = '/admin/settings/branding/contact';
const PASSWORD = 'a long enough password';

/** The statement's text, one space between words, by section heading. */
function sections(html: string): Map<string, string> {
  const page = $(html);
  const found = new Map<string, string>();
  page('main h2').each((_i, h2) => {
    const heading = page(h2).text().trim();
    const body = page(h2).nextUntil('h2').text().replace(/\s+/g, ' ').trim();
    found.set(heading, body);
  });
  return found;
}

async function contactOf(slug = 'acme'): Promise<string | null> {
  const [row] = await rows<{ contact_email: string | null }>(
    'select contact_email from workspaces where slug = ?',
    [slug],
  );
  return row!.contact_email;
}

describe('the accessibility statement', () => {
  let t: TestApp;
  let workspace: Workspace;

  beforeEach(async () => {
    t = makeTestApp();
    workspace = await aWorkspace('acme', { name: 'Acme Inc' });
  });

  it('is a page of the portal for anyone: the WCAG 2.2 AA claim, the tools that check it, JavaScript, limitations and help', async () => {
    const res = await new Browser(t).get(STATEMENT);
    assert.equal(res.status, 200);
    const page = $(res.text);
    assert.equal(page('title').text(), 'Accessibility statement – Acme Inc');
    assert.equal(page('h1').text(), 'Accessibility statement');
    assert.match(page('main > p').first().text(), /support portal of Acme Inc/);
    const text = sections(res.text);
    assert.deepEqual(
      [...text.keys()],
      [
        'How accessible this portal is',
        'How we check it',
        'Without JavaScript',
        'Known limitations',
        'If you need help in another way',
      ],
    );
    assert.match(text.get('How accessible this portal is')!, /WCAG\) version 2\.2 at level AA/);
    const checks = text.get('How we check it')!;
    for (const tool of [
      'axe-core',
      '@axe-core/playwright',
      'Nu Html Checker (vnu)',
      'Playwright',
      'Chromium',
      'keyboard alone',
      '320 pixels',
      'text at 200%',
    ]) {
      assert.ok(checks.includes(tool), `names ${tool}`);
    }
    assert.match(text.get('Without JavaScript')!, /^Everything works without JavaScript/);
    const limitations = text.get('Known limitations')!;
    assert.match(limitations, /Messages are written by people/);
    assert.match(limitations, /logo of Acme Inc is not described/);
    assert.match(limitations, /sign-in link works for 60 minutes/);
  });

  it('without a contact address, sends people to reply to any mail from the workspace or to open a ticket', async () => {
    const res = await new Browser(t).get(STATEMENT);
    const help = sections(res.text).get('If you need help in another way')!;
    assert.match(help, /reply to any email you have had from Acme Inc/);
    assert.equal($(res.text)('main a[href^="mailto:"]').length, 0);
    assert.equal($(res.text)('main a[href="/tickets/new"]').text(), 'open a ticket');
  });

  it('with a contact address, gives it as a mailto link', async () => {
    await rows('update workspaces set contact_email = ? where id = ?', [
      'access@acme.test',
      workspace.id,
    ]);
    const res = await new Browser(t).get(STATEMENT);
    const link = $(res.text)('main a[href^="mailto:"]');
    assert.equal(link.attr('href'), 'mailto:access@acme.test');
    assert.equal(link.text(), 'access@acme.test');
    assert.doesNotMatch(sections(res.text).get('If you need help in another way')!, /reply to/);
  });

  it('every portal page links to it from its footer, signed out and signed in', async () => {
    const jo = await aRequester(workspace, 'jo@example.com', 'Jo');
    const ticket = await aTicket(workspace, jo);
    const browser = new Browser(t);
    const signedOut = ['/tickets', '/tickets/login', '/tickets/new', STATEMENT];
    const footerLinks = async (paths: string[]) => {
      for (const path of paths) {
        const res = await browser.get(path);
        assert.equal(res.status, 200, path);
        const link = $(res.text)('footer p a', 'body');
        assert.equal(link.text(), 'Accessibility statement', path);
        assert.equal(link.attr('href'), STATEMENT, path);
      }
    };
    await footerLinks(signedOut);
    assert.equal((await browser.signIn('jo@example.com')).status, 303);
    await footerLinks([...signedOut, `/tickets/${ticket.reference}`]);
  });

  it('is not found while the portal is off', async () => {
    await rows('update workspaces set portal_enabled = false where id = ?', [workspace.id]);
    assert.equal((await new Browser(t).get(STATEMENT)).status, 404);
  });

  describe('the contact address under Settings → Branding', () => {
    async function admin(): Promise<Browser> {
      await anAgent(workspace, {
        email: 'ada@acme.test',
        role: 'admin',
        passwordHash: await hashPassword(PASSWORD),
      });
      const browser = new Browser(t);
      assert.equal((await browser.signInAgent('ada@acme.test', PASSWORD)).status, 303);
      return browser;
    }

    it('an admin sets it, the statement gives it, the audit trail records it, and blank removes it', async () => {
      const ada = await admin();
      const form = $((await ada.get(BRANDING)).text)(`form[action="${CONTACT}"]`);
      assert.equal(
        form.find('label[for="contactEmail"]').text(),
        'Email address customers can write to (optional)',
      );
      const saved = await ada.submit(BRANDING, CONTACT, { contactEmail: ' Access@Acme.test ' });
      assert.equal(saved.status, 303);
      assert.equal(saved.headers.location, BRANDING);
      assert.equal(await contactOf(), 'access@acme.test');
      const after = $((await ada.get(BRANDING)).text);
      assert.match(after('.panel-success').text(), /contact address was saved/);
      assert.equal(after('#contactEmail').val(), 'access@acme.test');
      const statement = await new Browser(t).get(STATEMENT);
      assert.equal($(statement.text)('main a[href^="mailto:"]').text(), 'access@acme.test');
      const events = await rows<{ details: Record<string, string> }>(
        `select details from audit_events where action = 'branding.changed'`,
      );
      assert.deepEqual(
        events.map((e) => e.details),
        [{ contactFrom: 'none', contactTo: 'access@acme.test' }],
      );

      assert.equal((await ada.submit(BRANDING, CONTACT, { contactEmail: '' })).status, 303);
      assert.equal(await contactOf(), null);
      assert.match($((await ada.get(BRANDING)).text)('.panel-success').text(), /was removed/);
    });

    for (const bad of [
      'not an address',
      'a@b',
      'x@example.com, y@example.com',
      `${'a'.repeat(250)}@example.com`,
    ]) {
      it(`refuses ${JSON.stringify(bad.slice(0, 30))} with the form again and changes nothing`, async () => {
        await rows('update workspaces set contact_email = ? where id = ?', [
          'old@acme.test',
          workspace.id,
        ]);
        const ada = await admin();
        const res = await ada.submit(BRANDING, CONTACT, { contactEmail: bad });
        assert.equal(res.status, 422);
        const page = $(res.text);
        assert.match(page('title').text(), /^Error: /);
        assert.match(
          page('#contactEmail-error').text(),
          /Enter the contact address in the correct format, like help@example.com|must be 254 characters or fewer/,
        );
        assert.equal(page('.error-summary a[href="#contactEmail"]').length, 1);
        assert.equal(page('#contactEmail').val(), bad, 'what was typed is kept');
        assert.equal(await contactOf(), 'old@acme.test');
      });
    }

    it('an agent who is not an admin cannot change it', async () => {
      await anAgent(workspace, {
        email: 'sam@acme.test',
        passwordHash: await hashPassword(PASSWORD),
      });
      const sam = new Browser(t);
      await sam.signInAgent('sam@acme.test', PASSWORD);
      const res = await sam.submit('/admin/tickets', CONTACT, { contactEmail: 'x@acme.test' });
      assert.equal(res.status, 403);
      assert.equal(await contactOf(), null);
    });
  });
});
