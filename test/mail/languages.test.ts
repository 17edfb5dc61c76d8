import assert from 'node:assert/strict';
import { simpleParser, type ParsedMail } from 'mailparser';
import { withScope } from '../../src/db/scopes';
import * as requesters from '../../src/models/requesters';
import type { Requester } from '../../src/models/requesters';
import type { User } from '../../src/models/users';
import * as workspaces from '../../src/models/workspaces';
import type { Workspace } from '../../src/models/workspaces';
import { replyAsAgent } from '../../src/services/agent-tickets';
import { smtpTransport } from '../../src/services/mail-transport';
import { makeTestApp, type TestApp } from '../helpers/app';
import { $, Browser, signInCodeOf, signInLinkOf } from '../helpers/client';
import { testDatabase } from '../helpers/database';
import {
  aRequester,
  aTicket,
  aWorkspace,
  anAgent,
  rows,
  setStatus,
  type TicketFixture,
} from '../helpers/fixtures';
import { aMailWorld, anAgentReplyAddress, DOMAIN, type MailWorld } from '../helpers/mail-world';
import { TestSmtpServer, type Received } from '../helpers/smtp';

/** A received message read back by an independent parser: subject decoded, both parts. */
interface Mail {
  to: string;
  subject: string;
  text: string;
  html: string;
}

async function read(received: Received): Promise<Mail> {
  const parsed: ParsedMail = await simpleParser(received.raw);
  return {
    to: received.rcptTo.join(','),
    subject: parsed.subject ?? '',
    text: parsed.text ?? '',
    html: typeof parsed.html === 'string' ? parsed.html : '',
  };
}

/** The `<html lang dir>` of a mail's HTML part. */
function htmlLanguage(mail: Mail): { lang?: string; dir?: string } {
  const html = $(mail.html)('html');
  return { lang: html.attr('lang'), dir: html.attr('dir') };
}

function system<T>(work: Parameters<typeof withScope<T>>[2]): Promise<T> {
  return withScope(testDatabase().db, { kind: 'system' }, work);
}

/** What the requester's row remembers. */
async function rememberedLanguage(email: string): Promise<string | null | undefined> {
  const [row] = await rows<{ language: string | null }>(
    'select language from requesters where email = ?',
    [email],
  );
  return row?.language;
}

function remember(requester: Requester, language: string): Promise<void> {
  return system((trx) =>
    requesters.rememberLanguage(trx, {
      workspaceId: requester.workspaceId,
      id: requester.id,
      language,
    }),
  );
}

const speaking = (language: string) => ({ 'Accept-Language': language });

describe('mail in the customer’s language', () => {
  let smtp: TestSmtpServer;
  let t: TestApp;
  let browser: Browser;
  let acme: Workspace;

  /** Sends what is queued through the real SMTP server and reads what arrived. */
  async function delivered(): Promise<Mail[]> {
    const before = smtp.received.length;
    await t.deliverMail();
    return Promise.all(smtp.received.slice(before).map(read));
  }

  async function agentReplies(ticket: TicketFixture, agent: User): Promise<void> {
    const { templates, config, db } = t.deps;
    await withScope(db, { kind: 'agent', workspaceId: acme.id, userId: agent.id }, (trx) =>
      replyAsAgent(
        trx,
        { templates, secret: config.sessionSecret, config },
        { workspace: acme, ticket, agent, body: 'Try turning it off.', at: t.clock.now() },
      ),
    );
  }

  beforeEach(async () => {
    smtp = new TestSmtpServer();
    const port = await smtp.listen();
    t = makeTestApp({ transport: smtpTransport(`smtp://127.0.0.1:${port}`, 'a@acme.test') });
    browser = new Browser(t);
    acme = await aWorkspace('acme', { name: 'Acme Inc' });
  });

  afterEach(async () => {
    await smtp.close();
  });

  describe('the sign-in mail is in the language of the page that asked for it', () => {
    const expected: Record<string, { subject: string; heading: string; dir: string }> = {
      en: { subject: 'Your sign-in link for Acme Inc', heading: 'Sign in to Acme Inc', dir: 'ltr' },
      es: {
        subject: 'Su enlace para iniciar sesión en Acme Inc',
        heading: 'Inicie sesión en Acme Inc',
        dir: 'ltr',
      },
      de: { subject: 'Ihr Anmeldelink für Acme Inc', heading: 'Bei Acme Inc anmelden', dir: 'ltr' },
      ar: {
        subject: 'رابط تسجيل الدخول إلى Acme Inc',
        heading: 'تسجيل الدخول إلى Acme Inc',
        dir: 'rtl',
      },
    };
    for (const [language, words] of Object.entries(expected)) {
      it(`${language}: subject, both parts and <html lang dir>; the link and code still work`, async () => {
        const res = await browser.submit(
          '/tickets/login',
          '/tickets/login',
          { email: 'jo@example.com' },
          speaking(language),
        );
        assert.equal(res.status, 200);
        const [mail] = await delivered();
        assert.ok(mail, 'a sign-in mail');
        assert.equal(mail.subject, words.subject);
        assert.equal(mail.text.split('\n')[0], words.heading);
        assert.equal($(mail.html)('h1').text(), words.heading);
        assert.deepEqual(htmlLanguage(mail), { lang: language, dir: words.dir });
        const link = signInLinkOf(mail.text);
        assert.equal($(mail.html)(`a[href="${link}"]`).length, 1);
        assert.equal(signInCodeOf(mail.text), signInCodeOf(mail.html));
      });
    }

    it('whatever the requester used before or the workspace’s default, and the page’s language is remembered from then on', async () => {
      const german = await system((trx) =>
        workspaces.update(trx, acme.id, { defaultLanguage: 'de' }),
      );
      assert.equal(german?.defaultLanguage, 'de');
      const jo = await aRequester(acme, 'jo@example.com');
      await remember(jo, 'es');
      await browser.submit('/tickets/login', '/tickets/login', { email: jo.email }, speaking('ar'));
      assert.equal(await rememberedLanguage(jo.email), 'ar', 'remembered with the request');
      const [mail] = await delivered();
      assert.equal(mail!.subject, 'رابط تسجيل الدخول إلى Acme Inc');
    });

    it('an address nobody has used yet gets no requester from asking; signing in creates it with the page’s language', async () => {
      await browser.submit(
        '/tickets/login',
        '/tickets/login',
        { email: 'new@example.com' },
        speaking('es'),
      );
      assert.equal(await rememberedLanguage('new@example.com'), undefined, 'no requester yet');
      const [mail] = await delivered();
      const { pathname } = new URL(signInLinkOf(mail!.text));
      const res = await browser.submit(pathname, pathname, {}, speaking('de'));
      assert.equal(res.status, 303);
      assert.equal(await rememberedLanguage('new@example.com'), 'de');
    });

    it('signing in with the code remembers that page’s language', async () => {
      const jo = await aRequester(acme, 'jo@example.com');
      await browser.submit('/tickets/login', '/tickets/login', { email: jo.email }, speaking('en'));
      const [mail] = await delivered();
      const res = await browser.submit(
        '/tickets/login/code',
        '/tickets/login/code',
        { code: signInCodeOf(mail!.text) },
        speaking('ar'),
      );
      assert.equal(res.status, 303);
      assert.equal(await rememberedLanguage(jo.email), 'ar');
    });
  });

  describe('mail to a known requester is in the language they last used', () => {
    let jo: Requester;
    let agent: User;
    let ticket: TicketFixture;

    beforeEach(async () => {
      jo = await aRequester(acme, 'jo@example.com', 'Jo');
      agent = await anAgent(acme, { name: 'Alex Agent' });
      ticket = await aTicket(acme, jo, { subject: 'Printer on fire' });
    });

    async function signIn(language: string): Promise<void> {
      await browser.submit(
        '/tickets/login',
        '/tickets/login',
        { email: jo.email },
        speaking(language),
      );
      const [mail] = await delivered();
      const { pathname } = new URL(signInLinkOf(mail!.text));
      await browser.submit(pathname, pathname, {}, speaking(language));
    }

    it('a requester who replied in the portal in German gets the agent’s reply in German, whatever the agent reads', async () => {
      await signIn('en');
      assert.equal(await rememberedLanguage(jo.email), 'en');
      const res = await browser.submit(
        `/tickets/${ticket.reference}`,
        `/tickets/${ticket.reference}/replies`,
        { body: 'Es brennt immer noch.' },
        speaking('de'),
      );
      assert.equal(res.status, 303);
      assert.equal(await rememberedLanguage(jo.email), 'de');
      await agentReplies(ticket, agent);
      const [mail] = await delivered();
      assert.equal(mail!.to, 'jo@example.com');
      assert.equal(mail!.subject, 'Re: Printer on fire [ACME-1001]');
      assert.equal(
        mail!.text.split('\n')[0],
        'Alex Agent von Acme Inc hat auf Ihre Anfrage ACME-1001 geantwortet: Printer on fire',
      );
      assert.match(mail!.text, /Try turning it off\./, 'the agent’s words are not translated');
      assert.match(mail!.text, /Hier können Sie die ganze Unterhaltung ansehen und antworten/);
      assert.deepEqual(htmlLanguage(mail!), { lang: 'de', dir: 'ltr' });
    });

    it('is remembered by every POST a signed-in requester makes: a new ticket, a reply, solving, rating, reopening, preferences', async () => {
      await signIn('en');
      const ticketPage = `/tickets/${ticket.reference}`;
      const prefs = '/tickets/preferences';
      const steps: [string, () => Promise<{ status: number }>][] = [
        [
          'es',
          () =>
            browser.submit(
              '/tickets/new',
              '/tickets/new',
              { subject: 'Hola', description: 'Ayuda' },
              speaking('es'),
            ),
        ],
        [
          'de',
          () =>
            browser.submit(ticketPage, `${ticketPage}/replies`, { body: 'Hallo' }, speaking('de')),
        ],
        ['ar', () => browser.submit(ticketPage, `${ticketPage}/solve`, {}, speaking('ar'))],
        [
          'en',
          () => browser.submit(ticketPage, `${ticketPage}/rating`, { rating: '5' }, speaking('en')),
        ],
        ['es', () => browser.submit(ticketPage, `${ticketPage}/reopen`, {}, speaking('es'))],
        ['ar', () => browser.submit(prefs, prefs, { timeZone: 'Africa/Cairo' }, speaking('ar'))],
      ];
      for (const [language, post] of steps) {
        assert.equal((await post()).status, 303, `${language} POST`);
        assert.equal(await rememberedLanguage(jo.email), language);
      }
      // The new ticket's acknowledgement went out in the language of its form.
      const mails = await delivered();
      const acknowledgement = mails.find((m) => m.subject.includes('ACME-1002'));
      assert.equal(acknowledgement?.subject, 'Hemos recibido su solicitud ACME-1002: Hola');
    });

    it('is not written by reading pages in another language', async () => {
      await signIn('en');
      await setStatus(ticket, 'resolved');
      const before = await rows('select xmin::text as version, language from requesters');
      for (const path of [
        '/tickets',
        `/tickets/${ticket.reference}`,
        '/tickets/new',
        '/tickets/your-data',
        '/tickets/preferences',
      ]) {
        const res = await browser.agent
          .get(path)
          .set({ Host: 'acme.localhost', ...speaking('ar') });
        assert.equal(res.status, 200, path);
        assert.equal(res.headers['content-language'], 'ar');
      }
      assert.deepEqual(
        await rows('select xmin::text as version, language from requesters'),
        before,
      );
    });

    it('a requester with no remembered language gets the workspace’s default', async () => {
      acme = (await system((trx) => workspaces.update(trx, acme.id, { defaultLanguage: 'ar' })))!;
      assert.equal(await rememberedLanguage(jo.email), null);
      await agentReplies(ticket, agent);
      const [mail] = await delivered();
      assert.equal(
        mail!.text.split('\n')[0],
        'ردّ Alex Agent من Acme Inc على طلبك ACME-1001: Printer on fire',
      );
      assert.deepEqual(htmlLanguage(mail!), { lang: 'ar', dir: 'rtl' });
      assert.equal(await rememberedLanguage(jo.email), null, 'mail remembers nothing');
    });

    it('the remembered language wins over the workspace’s default', async () => {
      acme = (await system((trx) => workspaces.update(trx, acme.id, { defaultLanguage: 'ar' })))!;
      await remember(jo, 'es');
      await agentReplies(ticket, agent);
      const [mail] = await delivered();
      assert.match(mail!.text, /^Alex Agent, de Acme Inc, ha respondido a su solicitud ACME-1001/);
      assert.deepEqual(htmlLanguage(mail!), { lang: 'es', dir: 'ltr' });
    });
  });

  describe('an anonymous ticket’s mail is in the language of its form', () => {
    const form = {
      name: 'Sam Visitor',
      email: 'sam@example.com',
      subject: 'No puedo descargar la factura',
      description: 'El botón no hace nada.',
    };

    it('acknowledged in Spanish from a Spanish form, and the requester is remembered as Spanish', async () => {
      const res = await browser.submit(
        '/tickets/new',
        '/tickets/new',
        form,
        speaking('es-MX,es;q=0.9'),
      );
      assert.equal(res.status, 303);
      assert.equal(await rememberedLanguage('sam@example.com'), 'es');
      const [mail] = await delivered();
      assert.equal(
        mail!.subject,
        'Hemos recibido su solicitud ACME-1001: No puedo descargar la factura',
      );
      assert.match(mail!.text, /^Hemos recibido su solicitud\n/);
      assert.match(mail!.text, /Gracias por ponerse en contacto con Acme Inc\./);
      assert.deepEqual(htmlLanguage(mail!), { lang: 'es', dir: 'ltr' });
    });

    it('an existing requester’s language follows the form too', async () => {
      const sam = await aRequester(acme, 'sam@example.com', 'Sam');
      await remember(sam, 'de');
      await browser.submit('/tickets/new', '/tickets/new', form, speaking('ar'));
      assert.equal(await rememberedLanguage('sam@example.com'), 'ar');
      const [mail] = await delivered();
      assert.equal(mail!.subject, 'تلقّينا طلبك ACME-1001: No puedo descargar la factura');
    });

    it('a held ticket’s confirmation mail is in Spanish; confirming from a German page acknowledges in German and remembers it', async () => {
      await system((trx) => workspaces.update(trx, acme.id, { confirmAnonymousEmail: true }));
      await browser.submit('/tickets/new', '/tickets/new', form, speaking('es'));
      const [confirmation] = await delivered();
      assert.equal(
        confirmation!.subject,
        'Confirme su dirección de correo electrónico para la solicitud ACME-1001',
      );
      assert.match(confirmation!.text, /caduca en 60 minutos/);
      assert.match(confirmation!.text, /en un plazo de 7 días/);
      assert.deepEqual(htmlLanguage(confirmation!), { lang: 'es', dir: 'ltr' });

      // Another device, another language: following the link proves the address is theirs.
      const phone = new Browser(t);
      const link = /https?:\/\/\S+\/tickets\/confirm\/[A-Za-z0-9_-]{43}/.exec(confirmation!.text);
      const { pathname } = new URL(link![0]);
      assert.equal((await phone.submit(pathname, pathname, {}, speaking('de'))).status, 303);
      assert.equal(await rememberedLanguage('sam@example.com'), 'de');
      const [acknowledgement] = await delivered();
      assert.equal(
        acknowledgement!.subject,
        'Ihre Anfrage ACME-1001 ist bei uns eingegangen: No puedo descargar la factura',
      );
    });

    it('“email me a new link” from the held ticket’s page uses that page’s language, and remembers nothing', async () => {
      await system((trx) => workspaces.update(trx, acme.id, { confirmAnonymousEmail: true }));
      await browser.submit('/tickets/new', '/tickets/new', form, speaking('es'));
      await delivered();
      t.clock.advance(2 * 60_000);
      const res = await browser.submit(
        '/tickets/ACME-1001',
        '/tickets/ACME-1001/confirmation-link',
        {},
        speaking('de'),
      );
      assert.equal(res.status, 303);
      const [again] = await delivered();
      assert.equal(again!.subject, 'Bestätigen Sie Ihre E-Mail-Adresse für die Anfrage ACME-1001');
      assert.equal(
        await rememberedLanguage('sam@example.com'),
        'es',
        'a visitor proved no address',
      );
    });
  });
});

describe('mail caused by inbound email', () => {
  let world: MailWorld;
  let acme: Workspace;

  async function delivered(): Promise<Mail[]> {
    return Promise.all((await world.deliver()).map(read));
  }

  beforeEach(async () => {
    world = await aMailWorld();
    acme = await aWorkspace('acme', { name: 'Acme Inc', defaultLanguage: 'es' });
  });

  afterEach(async () => {
    await world.close();
  });

  it('a ticket opened by mail is acknowledged in the requester’s remembered language', async () => {
    const jo = await aRequester(acme, 'jo@example.com', 'Jo');
    await remember(jo, 'de');
    await world.send({
      from: 'jo@example.com',
      to: `acme@${DOMAIN}`,
      subject: 'Drucker',
      text: 'Hilfe',
    });
    const [mail] = await delivered();
    assert.equal(mail!.subject, 'Ihre Anfrage ACME-1001 ist bei uns eingegangen: Drucker');
    assert.deepEqual(htmlLanguage(mail!), { lang: 'de', dir: 'ltr' });
    assert.equal(await rememberedLanguage('jo@example.com'), 'de');
  });

  it('an address the workspace does not know yet gets the workspace’s default, and nothing is remembered', async () => {
    await world.send({
      from: 'new@example.com',
      to: `acme@${DOMAIN}`,
      subject: 'Printer',
      text: 'Help',
    });
    const [mail] = await delivered();
    assert.equal(mail!.subject, 'Hemos recibido su solicitud ACME-1001: Printer');
    assert.equal(await rememberedLanguage('new@example.com'), null);
  });

  it('a refused reply is answered in the sender’s remembered language; one naming no workspace in English', async () => {
    const jo = await aRequester(acme, 'jo@example.com', 'Jo');
    const sam = await aRequester(acme, 'sam@example.com', 'Sam');
    await remember(sam, 'ar');
    const agent = await anAgent(acme);
    const ticket = await aTicket(acme, jo);
    const replyTo = await anAgentReplyAddress(world, { workspace: acme, ticket, agent });

    await world.send({ from: 'sam@example.com', to: replyTo, subject: 'Re', text: 'Me too' });
    const [refusal] = await delivered();
    assert.equal(refusal!.to, 'sam@example.com');
    assert.equal(refusal!.subject, 'تعذّرت إضافة رسالتك إلى طلب');
    assert.deepEqual(htmlLanguage(refusal!), { lang: 'ar', dir: 'rtl' });

    await world.send({
      from: 'kim@example.com',
      to: `reply+${'0'.repeat(40)}@${DOMAIN}`,
      subject: 'Re',
      text: '?',
    });
    const [unknown] = await delivered();
    assert.equal(unknown!.subject, 'We could not add your email to a ticket');
    assert.deepEqual(htmlLanguage(unknown!), { lang: 'en', dir: 'ltr' });
  });
});
