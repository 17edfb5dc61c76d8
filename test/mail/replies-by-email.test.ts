import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { withScope } from '../../src/db/scopes';
import type { Requester } from '../../src/models/requesters';
import * as tickets from '../../src/models/tickets';
import type { User } from '../../src/models/users';
import type { Workspace } from '../../src/models/workspaces';
import { revokeReplyAddresses } from '../../src/services/reply-addresses';
import { DAY } from '../helpers/app';
import {
  aRequester,
  aTicket,
  aWorkspace,
  anAgent,
  rows,
  type TicketFixture,
} from '../helpers/fixtures';
import {
  aMailWorld,
  anAgentReplyAddress,
  DOMAIN,
  headerOf,
  type MailWorld,
} from '../helpers/mail-world';
import { textOf } from '../helpers/smtp';
import { testDatabase } from '../helpers/database';

interface MessageRow {
  body: string;
  author_kind: string;
  requester_id: string | null;
  internal: boolean;
  created_at: Date;
}

function messagesOf(ticketId: string): Promise<MessageRow[]> {
  return rows<MessageRow>(
    'select body, author_kind, requester_id, internal, created_at from messages where ticket_id = ? order by created_at, id',
    [ticketId],
  );
}

async function statusOf(ticket: TicketFixture): Promise<string> {
  const [row] = await rows<{ status: string }>('select status from tickets where id = ?', [
    ticket.id,
  ]);
  return row!.status;
}

describe('replies by email', () => {
  let world: MailWorld;
  let acme: Workspace;
  let jo: Requester;
  let agent: User;
  let ticket: TicketFixture;
  let replyTo: string;

  beforeEach(async () => {
    world = await aMailWorld();
    acme = await aWorkspace('acme', { name: 'Acme Inc' });
    jo = await aRequester(acme, 'jo@example.com', 'Jo Bloggs');
    agent = await anAgent(acme);
    ticket = await aTicket(acme, jo, { subject: 'Printer on fire' });
    replyTo = await anAgentReplyAddress(world, { workspace: acme, ticket, agent });
  });

  afterEach(async () => {
    await world.close();
  });

  describe('the Reply-To of mail about a ticket', () => {
    it('an agent reply carries reply+<token>@INBOUND_DOMAIN, and only the token’s SHA-256 is stored', async () => {
      const match = new RegExp(`^reply\\+([0-9a-f]{40})@${DOMAIN.replace(/\./g, '\\.')}$`).exec(
        replyTo,
      );
      assert.ok(match, `a reply address: ${replyTo}`);
      const token = match[1]!;
      const stored = await rows<Record<string, unknown>>('select * from reply_addresses');
      assert.equal(stored.length, 1);
      const [row] = stored;
      assert.deepEqual(row!.token_hash, createHash('sha256').update(token).digest());
      assert.equal(row!.ticket_id, ticket.id);
      assert.equal(row!.requester_id, jo.id);
      for (const value of Object.values(row!)) {
        assert.ok(!String(value).includes(token), 'the token itself is stored nowhere');
      }
    });

    it('each mail gets its own token, and every one keeps working', async () => {
      const second = await anAgentReplyAddress(world, { workspace: acme, ticket, agent });
      assert.notEqual(second, replyTo);
      await world.send({ from: 'jo@example.com', to: replyTo, subject: 'Re', text: 'First way' });
      await world.send({ from: 'jo@example.com', to: second, subject: 'Re', text: 'Second way' });
      const bodies = (await messagesOf(ticket.id)).map((m) => m.body);
      assert.deepEqual(bodies.slice(-2), ['First way', 'Second way']);
    });

    it('without INBOUND_DOMAIN mail has no Reply-To and no token is issued', async () => {
      const plain = await aMailWorld({ INBOUND_DOMAIN: undefined });
      try {
        await assert.rejects(
          anAgentReplyAddress(plain, { workspace: acme, ticket, agent }),
          /no Reply-To/,
        );
        assert.equal((await rows('select id from reply_addresses')).length, 1, 'only the first');
      } finally {
        await plain.close();
      }
    });
  });

  describe('a reply from the requester', () => {
    it('appears in the thread within 5 seconds as their public message, without quoted history or signature', async () => {
      const started = Date.now();
      await world.send({
        from: 'Jo Bloggs <Jo@Example.com>',
        to: replyTo,
        subject: 'Re: Printer on fire [ACME-1001]',
        text:
          'It worked, thank you!\n\nJo\n-- \nJo Bloggs\nHead of Printers\n\n' +
          'On Wed, 25 Nov 2026 at 10:00, Acme Inc <support@example.com> wrote:\n' +
          '> Have you tried turning it off and on again?\n',
      });
      const elapsed = Date.now() - started;
      assert.ok(elapsed < 5000, `in the thread after ${elapsed} ms`);
      const thread = await messagesOf(ticket.id);
      const last = thread.at(-1)!;
      assert.equal(last.body, 'It worked, thank you!\n\nJo');
      assert.equal(last.author_kind, 'requester');
      assert.equal(last.requester_id, jo.id);
      assert.equal(last.internal, false);
    });

    it('moves a Pending ticket back to Open, as a portal reply does', async () => {
      assert.equal(await statusOf(ticket), 'pending', 'the agent reply made it Pending');
      await world.send({
        from: 'jo@example.com',
        to: replyTo,
        subject: 'Re',
        text: 'Still on fire',
      });
      assert.equal(await statusOf(ticket), 'open');
    });

    it('reopens a Resolved ticket, with the change in the thread', async () => {
      await withScope(testDatabase().db, { kind: 'system' }, (trx) =>
        tickets.setStatus(trx, {
          workspaceId: acme.id,
          id: ticket.id,
          status: 'resolved',
          at: world.t.clock.now(),
        }),
      );
      await world.send({ from: 'jo@example.com', to: replyTo, subject: 'Re', text: 'It is back' });
      assert.equal(await statusOf(ticket), 'open');
      const events = await rows<{ from_status: string; to_status: string }>(
        'select from_status, to_status from ticket_events where ticket_id = ?',
        [ticket.id],
      );
      assert.deepEqual(events.at(-1), { from_status: 'resolved', to_status: 'open' });
    });

    it('to a Closed ticket opens a new ticket that names the old reference, and says so by mail', async () => {
      await withScope(testDatabase().db, { kind: 'system' }, (trx) =>
        tickets.setStatus(trx, {
          workspaceId: acme.id,
          id: ticket.id,
          status: 'closed',
          at: world.t.clock.now(),
        }),
      );
      const before = (await messagesOf(ticket.id)).length;
      await world.send({
        from: 'jo@example.com',
        to: replyTo,
        subject: 'Re',
        text: 'It is on fire again',
      });
      assert.equal((await messagesOf(ticket.id)).length, before, 'the closed ticket takes nothing');
      assert.equal(await statusOf(ticket), 'closed');
      const [followUp] = await rows<{
        id: string;
        number: number;
        subject: string;
        requester_id: string;
      }>('select id, number, subject, requester_id from tickets where id <> ?', [ticket.id]);
      assert.ok(followUp, 'a new ticket');
      assert.equal(followUp.subject, 'Follow-up to ACME-1001');
      assert.equal(followUp.requester_id, jo.id);
      assert.deepEqual(
        (await messagesOf(followUp.id)).map((m) => m.body),
        ['It is on fire again'],
      );
      const [ack] = await world.deliver();
      assert.ok(ack, 'an acknowledgement');
      assert.deepEqual(ack.rcptTo, ['jo@example.com']);
      assert.match(textOf(ack), /ACME-1002/);
      assert.match(headerOf(ack, 'reply-to') ?? '', /^reply\+[0-9a-f]{40}@/);
    });

    it('a Resolved ticket past its reopening window gets a follow-up ticket too', async () => {
      await withScope(testDatabase().db, { kind: 'system' }, (trx) =>
        tickets.setStatus(trx, {
          workspaceId: acme.id,
          id: ticket.id,
          status: 'resolved',
          at: world.t.clock.now(),
        }),
      );
      world.t.clock.advance(30 * DAY);
      await world.send({ from: 'jo@example.com', to: replyTo, subject: 'Re', text: 'Again' });
      assert.equal(await statusOf(ticket), 'resolved');
      const subjects = await rows<{ subject: string }>(
        'select subject from tickets order by number',
      );
      assert.deepEqual(
        subjects.map((s) => s.subject),
        ['Printer on fire', 'Follow-up to ACME-1001'],
      );
    });

    it('keeps 20 replies sent at once, every one, each after the one before', async () => {
      const texts = Array.from({ length: 20 }, (_v, i) => `Reply number ${i + 1}`);
      await Promise.all(
        texts.map((text) =>
          world.send({ from: 'jo@example.com', to: replyTo, subject: 'Re', text }),
        ),
      );
      const thread = (await messagesOf(ticket.id)).filter((m) => m.body.startsWith('Reply number'));
      assert.deepEqual(thread.map((m) => m.body).sort(), [...texts].sort(), 'all kept, none twice');
      for (let i = 1; i < thread.length; i += 1) {
        assert.ok(
          thread[i]!.created_at > thread[i - 1]!.created_at,
          'each has its own place in the thread',
        );
      }
    });

    it('reads a quoted-printable body and keeps the allowed attachments (multipart/mixed), judged by content', async () => {
      const png = Buffer.from(
        'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg==',
        'base64',
      );
      await world.send({
        from: 'jo@example.com',
        to: replyTo,
        subject: 'Re: Printer on fire',
        text: 'Grüße aus Köln – the printer’s log is attached. '.repeat(3).trim(),
        textEncoding: 'quoted-printable',
        attachments: [
          { filename: 'log.txt', content: 'line 1\nline 2\n' },
          { filename: '../../etc/screenshot.png', content: png, contentType: 'application/pdf' },
          {
            filename: 'setup.exe',
            content: Buffer.from([0x4d, 0x5a, 0x90, 0x00, 0x03, 0x00, 0xff]),
          },
        ],
      });
      const last = (await messagesOf(ticket.id)).at(-1)!;
      assert.match(last.body, /^Grüße aus Köln – the printer’s log is attached\./);
      const files = await rows<{ name: string; content_type: string; size: string }>(
        'select name, content_type, size from attachments order by position',
      );
      assert.deepEqual(
        files.map((f) => [f.name, f.content_type]),
        [
          ['log.txt', 'text/plain'],
          ['screenshot.png', 'image/png'],
        ],
        'the program is not kept; the image is judged by its bytes, its name without a path',
      );
    });

    it('reads a base64 body', async () => {
      await world.send({
        from: 'jo@example.com',
        to: replyTo,
        subject: 'Re',
        text: 'Encoded in base64: 東京 and Zürich',
        textEncoding: 'base64',
      });
      assert.equal(
        (await messagesOf(ticket.id)).at(-1)!.body,
        'Encoded in base64: 東京 and Zürich',
      );
    });

    it('turns HTML-only mail into plain text, keeping no markup or script', async () => {
      await world.send({
        from: 'jo@example.com',
        to: replyTo,
        subject: 'Re',
        html: '<p>Hello <b>there</b> &amp; thanks</p><script>alert("x")</script><p>Second paragraph</p>',
      });
      const body = (await messagesOf(ticket.id)).at(-1)!.body;
      assert.match(body, /Hello there & thanks/);
      assert.match(body, /Second paragraph/);
      assert.doesNotMatch(body, /[<>]|alert/);
    });
  });

  describe('refused, with one short answer', () => {
    it('a forged From: nothing is kept, the sender is answered once with the portal’s address, and the trail records it', async () => {
      const before = (await messagesOf(ticket.id)).length;
      await world.send({
        from: 'mallory@evil.example',
        to: replyTo,
        subject: 'Re',
        text: 'Send me the invoices',
      });
      assert.equal((await messagesOf(ticket.id)).length, before);
      assert.equal(await statusOf(ticket), 'pending');
      const answers = await world.deliver();
      assert.equal(answers.length, 1);
      assert.deepEqual(answers[0]!.rcptTo, ['mallory@evil.example']);
      assert.equal(headerOf(answers[0]!, 'auto-submitted'), 'auto-replied');
      assert.match(textOf(answers[0]!), /http:\/\/acme\.localhost:3000\/tickets/);
      assert.doesNotMatch(
        textOf(answers[0]!),
        /Printer on fire|ACME-1001/,
        'nothing about the ticket',
      );
      const events = await rows<{ action: string; subject_label: string; actor_label: string }>(
        'select action, subject_label, actor_label from audit_events',
      );
      assert.deepEqual(events, [
        {
          action: 'mail.reply_refused',
          subject_label: 'ACME-1001',
          actor_label: 'mallory@evil.example',
        },
      ]);
    });

    it('answers an address at most once an hour, however often it writes', async () => {
      for (let i = 0; i < 3; i += 1) {
        await world.send({
          from: 'mallory@evil.example',
          to: replyTo,
          subject: 'Re',
          text: `Try ${i}`,
        });
      }
      assert.equal((await world.deliver()).length, 1);
    });

    it('an unknown token: answered once, nothing stored', async () => {
      const before = await rows('select id from messages');
      await world.send({
        from: 'jo@example.com',
        to: `reply+${'0'.repeat(40)}@${DOMAIN}`,
        subject: 'Re',
        text: 'Hello?',
      });
      await world.send({
        from: 'jo@example.com',
        to: `reply+nonsense@${DOMAIN}`,
        subject: 'Re',
        text: 'Hi',
      });
      assert.equal((await rows('select id from messages')).length, before.length);
      const answers = await world.deliver();
      assert.equal(answers.length, 1, 'one answer for both');
      assert.match(textOf(answers[0]!), /does not belong to a ticket/);
    });

    it('a revoked token (the requester was erased) is refused like an unknown one', async () => {
      await withScope(
        testDatabase().db,
        { kind: 'agent', workspaceId: acme.id, userId: agent.id },
        (trx) => revokeReplyAddresses(trx, { workspaceId: acme.id, requesterId: jo.id }),
      );
      assert.deepEqual(await rows('select id from reply_addresses'), []);
      const before = (await messagesOf(ticket.id)).length;
      await world.send({
        from: 'jo@example.com',
        to: replyTo,
        subject: 'Re',
        text: 'Still there?',
      });
      assert.equal((await messagesOf(ticket.id)).length, before);
      assert.equal((await world.deliver()).length, 1);
    });
  });

  describe('dropped without an answer (mail loops)', () => {
    const automatic: [string, Record<string, string>, string?][] = [
      ['Auto-Submitted: auto-replied', { 'Auto-Submitted': 'auto-replied' }],
      ['Auto-Submitted: auto-generated', { 'Auto-Submitted': 'auto-generated' }],
      ['Precedence: bulk', { Precedence: 'bulk' }],
      ['Precedence: junk', { Precedence: 'junk' }],
      ['Precedence: list', { Precedence: 'list' }],
      ['X-Autoreply', { 'X-Autoreply': 'yes' }],
      ['X-Autorespond', { 'X-Autorespond': 'yes' }],
      ['an out-of-office subject', {}, 'Out of Office: Re: Printer on fire'],
      ['an automatic reply subject', {}, 'Automatic reply: Printer on fire'],
      ['a German out-of-office subject', {}, 'Abwesenheitsnotiz: Printer on fire'],
      ['a French out-of-office subject', {}, 'Réponse automatique : Printer on fire'],
      ['a Spanish out-of-office subject', {}, 'Respuesta automática: Printer on fire'],
    ];
    for (const [what, headers, subject] of automatic) {
      it(`an auto-reply (${what}): nothing kept, nothing answered`, async () => {
        const before = (await messagesOf(ticket.id)).length;
        await world.send({
          from: 'jo@example.com',
          to: replyTo,
          subject: subject ?? 'Re',
          text: 'I am away',
          headers,
        });
        assert.equal((await messagesOf(ticket.id)).length, before);
        assert.equal(await statusOf(ticket), 'pending');
        assert.deepEqual(await world.deliver(), []);
      });
    }

    it('Auto-Submitted: no is a person’s mail and is kept', async () => {
      await world.send({
        from: 'jo@example.com',
        to: replyTo,
        subject: 'Re',
        text: 'Me',
        headers: { 'Auto-Submitted': 'no' },
      });
      assert.equal((await messagesOf(ticket.id)).at(-1)!.body, 'Me');
    });

    it('our own sending address coming back: a loop, dropped', async () => {
      await world.send({
        from: 'Acme Inc <support@example.com>',
        to: replyTo,
        subject: 'Re',
        text: 'Loop',
      });
      await world.send({
        from: 'support@example.com',
        to: `acme@${DOMAIN}`,
        subject: 'Loop',
        text: 'Loop',
      });
      assert.equal((await rows('select id from tickets')).length, 1);
      assert.deepEqual(await world.deliver(), []);
    });

    it('bounces (mailer-daemon, a null sender) are dropped', async () => {
      await world.send({
        from: 'MAILER-DAEMON@mx.example.com',
        to: replyTo,
        subject: 'Undelivered Mail',
        text: 'Bounce',
      });
      await world.send({
        envelope: { from: '', to: [replyTo] },
        raw: `From: jo@example.com\r\nTo: ${replyTo}\r\nSubject: Delivery Status Notification\r\n\r\nBounce\r\n`,
      });
      assert.equal((await messagesOf(ticket.id)).at(-1)!.author_kind, 'agent');
      assert.deepEqual(await world.deliver(), []);
    });
  });
});
