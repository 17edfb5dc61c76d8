import assert from 'node:assert/strict';
import { createConnection } from 'node:net';
import { withScope } from '../../src/db/scopes';
import * as workspaces from '../../src/models/workspaces';
import type { Workspace } from '../../src/models/workspaces';
import { freePort } from '../../src/db/embedded';
import { cliOnTestDb } from '../helpers/cli';
import { testDatabase } from '../helpers/database';
import { aWorkspace, rows } from '../helpers/fixtures';
import { aMailWorld, DOMAIN, headerOf, type MailWorld } from '../helpers/mail-world';
import { textOf } from '../helpers/smtp';

interface TicketRow {
  id: string;
  number: number;
  subject: string;
  held_since: Date | null;
  email: string;
  name: string;
}

const ticketRows = () =>
  rows<TicketRow>(
    `select t.id, t.number, t.subject, t.held_since, r.email, r.name
       from tickets t join requesters r on r.workspace_id = t.workspace_id and r.id = t.requester_id
      order by t.number`,
  );

const bodies = () => rows<{ body: string }>('select body from messages order by created_at, id');

/** Speaks SMTP by hand, for what a client library will not send (a SIZE too big). */
async function smtpDialogue(
  port: number,
  lines: string[],
): Promise<{ replies: string[]; transcript: string }> {
  const socket = createConnection(port, '127.0.0.1');
  const replies: string[] = [];
  let transcript = '';
  let buffer = '';
  let waiting: (() => void) | undefined;
  socket.on('data', (chunk: Buffer) => {
    buffer += chunk.toString();
    transcript += chunk.toString();
    // A reply is complete at a line whose code is followed by a space.
    while (/^\d{3} .*\r\n/m.test(buffer)) {
      const end = buffer.search(/^\d{3} .*\r\n/m);
      const line = /^\d{3} .*\r\n/m.exec(buffer.slice(end))![0];
      replies.push(line.trim());
      buffer = buffer.slice(end + line.length);
      waiting?.();
    }
  });
  const next = () => new Promise<void>((resolve) => (waiting = resolve));
  await next();
  for (const line of lines) {
    socket.write(`${line}\r\n`);
    await next();
  }
  socket.end();
  return { replies, transcript };
}

describe('tickets opened by email', () => {
  let world: MailWorld;
  let acme: Workspace;

  beforeEach(async () => {
    world = await aMailWorld();
    acme = await aWorkspace('acme', { name: 'Acme Inc', portal: true });
  });

  afterEach(async () => {
    await world.close();
  });

  it('mail to <slug>@INBOUND_DOMAIN opens a ticket for a new requester and answers with the reference, the portal and a Reply-To', async () => {
    await world.send({
      from: 'Sam Sender <Sam@Example.com>',
      to: `acme@${DOMAIN}`,
      subject: 'Invoice 42 is wrong',
      text: 'The total is off by 10.\n\n-- \nSam Sender\nSender Ltd',
      attachments: [{ filename: 'invoice-42.csv', content: 'item,total\nwidget,10\n' }],
    });
    const [ticket] = await ticketRows();
    assert.ok(ticket);
    assert.equal(ticket.subject, 'Invoice 42 is wrong');
    assert.equal(ticket.email, 'sam@example.com');
    assert.equal(ticket.name, 'Sam Sender');
    assert.equal(ticket.held_since, null);
    assert.deepEqual(await bodies(), [{ body: 'The total is off by 10.' }]);
    const files = await rows<{ name: string; content_type: string }>(
      'select name, content_type from attachments',
    );
    assert.deepEqual(files, [{ name: 'invoice-42.csv', content_type: 'text/csv' }]);

    const [ack] = await world.deliver();
    assert.ok(ack);
    assert.deepEqual(ack.rcptTo, ['sam@example.com']);
    assert.match(headerOf(ack, 'subject') ?? '', /ACME-1001/);
    assert.equal(headerOf(ack, 'auto-submitted'), 'auto-generated');
    assert.match(textOf(ack), /http:\/\/acme\.localhost:3000\/tickets\/ACME-1001/);
    const replyTo = headerOf(ack, 'reply-to')!;
    assert.match(replyTo, /^reply\+[0-9a-f]{40}@in\.example\.test$/);

    await world.send({
      from: 'sam@example.com',
      to: replyTo,
      subject: 'Re',
      text: 'One more thing',
    });
    assert.deepEqual(
      (await bodies()).map((b) => b.body),
      ['The total is off by 10.', 'One more thing'],
    );
    const events = await rows<{ action: string; actor_label: string }>(
      'select action, actor_label from audit_events',
    );
    assert.deepEqual(events, [{ action: 'mail.ticket_opened', actor_label: 'sam@example.com' }]);
  });

  it('with the portal off the answer gives the reference and no portal address', async () => {
    await withScope(testDatabase().db, { kind: 'system' }, (trx) =>
      workspaces.update(trx, acme.id, { portalEnabled: false }),
    );
    await world.send({
      from: 'sam@example.com',
      to: `acme@${DOMAIN}`,
      subject: 'Help',
      text: 'Please',
    });
    const [ack] = await world.deliver();
    assert.match(textOf(ack!), /ACME-1001/);
    assert.doesNotMatch(textOf(ack!), /http/);
    assert.ok(headerOf(ack!, 'reply-to'));
  });

  it('where the workspace asks for addresses to be confirmed, the ticket is held and a confirmation link is mailed instead', async () => {
    await withScope(testDatabase().db, { kind: 'system' }, (trx) =>
      workspaces.update(trx, acme.id, { confirmAnonymousEmail: true }),
    );
    await world.send({
      from: 'sam@example.com',
      to: `acme@${DOMAIN}`,
      subject: 'Held',
      text: 'Hold me',
    });
    const [ticket] = await ticketRows();
    assert.ok(ticket!.held_since, 'held');
    const mails = await world.deliver();
    assert.equal(mails.length, 1);
    assert.match(headerOf(mails[0]!, 'subject') ?? '', /^Confirm your email address/);
    assert.equal(
      headerOf(mails[0]!, 'reply-to'),
      undefined,
      'no way in before the address is confirmed',
    );
  });

  it('reads ISO-8859-1 and UTF-8 encoded-word headers', async () => {
    await world.send({
      envelope: { from: 'jorg@example.com', to: [`acme@${DOMAIN}`] },
      raw:
        'From: =?ISO-8859-1?Q?J=F6rg_M=FCller?= <jorg@example.com>\r\n' +
        `To: acme@${DOMAIN}\r\n` +
        'Subject: =?UTF-8?B?w4RyZ2VyIG1pdCBkZXIgUmVjaG51bmc=?=\r\n' +
        'MIME-Version: 1.0\r\n' +
        'Content-Type: text/plain; charset=ISO-8859-1\r\n' +
        'Content-Transfer-Encoding: quoted-printable\r\n\r\n' +
        'Sch=F6ne Gr=FC=DFe\r\n',
    });
    const [ticket] = await ticketRows();
    assert.equal(ticket!.subject, 'Ärger mit der Rechnung');
    assert.equal(ticket!.name, 'Jörg Müller');
    assert.deepEqual(await bodies(), [{ body: 'Schöne Grüße' }]);
  });

  it('an ISO-8859-1 encoded-word subject', async () => {
    await world.send({
      envelope: { from: 'jo@example.com', to: [`acme@${DOMAIN}`] },
      raw:
        `From: jo@example.com\r\nTo: acme@${DOMAIN}\r\n` +
        'Subject: =?iso-8859-1?q?Caf=E9_cr=E8me?=\r\n\r\nBonjour\r\n',
    });
    assert.equal((await ticketRows())[0]!.subject, 'Café crème');
  });

  it('an unknown workspace or another domain is refused at RCPT with 550, and nothing is stored', async () => {
    await assert.rejects(
      world.send({ from: 'sam@example.com', to: `nobody@${DOMAIN}`, subject: 'Hi', text: 'Hi' }),
      (error: { responseCode?: number }) => error.responseCode === 550,
    );
    await assert.rejects(
      world.send({
        from: 'sam@example.com',
        to: 'acme@elsewhere.example',
        subject: 'Hi',
        text: 'Hi',
      }),
      (error: { responseCode?: number }) => error.responseCode === 550,
    );
    assert.deepEqual(await ticketRows(), []);
  });

  it('follows the per-sender limit: over it, the sending server is told to try later (450) and nothing is stored', async () => {
    await world.close();
    world = await aMailWorld({ NEW_TICKET_BY_MAIL_PER_SENDER_PER_HOUR: '2' });
    for (const subject of ['One', 'Two']) {
      await world.send({ from: 'sam@example.com', to: `acme@${DOMAIN}`, subject, text: 'x' });
    }
    await assert.rejects(
      world.send({ from: 'sam@example.com', to: `acme@${DOMAIN}`, subject: 'Three', text: 'x' }),
      (error: { responseCode?: number }) => error.responseCode === 450,
    );
    await world.send({
      from: 'kim@example.com',
      to: `acme@${DOMAIN}`,
      subject: 'Other sender',
      text: 'x',
    });
    assert.deepEqual(
      (await ticketRows()).map((t) => t.subject),
      ['One', 'Two', 'Other sender'],
    );
  });

  it('follows the per-workspace limit', async () => {
    await world.close();
    world = await aMailWorld({ NEW_TICKET_BY_MAIL_PER_WORKSPACE_PER_HOUR: '1' });
    await world.send({ from: 'sam@example.com', to: `acme@${DOMAIN}`, subject: 'One', text: 'x' });
    await assert.rejects(
      world.send({ from: 'kim@example.com', to: `acme@${DOMAIN}`, subject: 'Two', text: 'x' }),
      (error: { responseCode?: number }) => error.responseCode === 450,
    );
    assert.equal((await ticketRows()).length, 1);
  });

  it('a message deferred for one of its recipients and sent again is taken once for each of them', async () => {
    await world.close();
    world = await aMailWorld({ NEW_TICKET_BY_MAIL_PER_WORKSPACE_PER_HOUR: '1' });
    await aWorkspace('globex', { name: 'Globex', portal: true });
    await world.send({
      from: 'kim@example.com',
      to: `globex@${DOMAIN}`,
      subject: 'Earlier',
      text: 'x',
    });
    const message = {
      from: 'sam@example.com',
      to: [`acme@${DOMAIN}`, `globex@${DOMAIN}`],
      subject: 'To both',
      text: 'Hello both',
      messageId: '<to-both@example.com>',
    };
    // Globex is at its limit: the whole message is deferred, though Acme has taken it.
    await assert.rejects(
      world.send(message),
      (error: { responseCode?: number }) => error.responseCode === 450,
    );
    // The window ends; the sending server tries again, and once more (say, from a backup MX).
    await rows('delete from rate_limits');
    await world.send(message);
    await world.send(message);
    const subjects = await rows<{ slug: string; subject: string }>(
      `select w.slug, t.subject from tickets t join workspaces w on w.id = t.workspace_id
        order by w.slug, t.number`,
    );
    assert.deepEqual(subjects, [
      { slug: 'acme', subject: 'To both' },
      { slug: 'globex', subject: 'Earlier' },
      { slug: 'globex', subject: 'To both' },
    ]);
    // Another message with the same Message-ID from someone else is a message of its own.
    await world.send({ ...message, from: 'kim@example.com', to: `acme@${DOMAIN}` });
    assert.equal((await ticketRows()).length, 4);
  });

  describe('what the listener refuses or survives', () => {
    it('a 30 MB message is refused with 552 at the end of DATA, and nothing is stored', async () => {
      await assert.rejects(
        world.send({
          from: 'sam@example.com',
          to: `acme@${DOMAIN}`,
          subject: 'Huge',
          text: 'See attached',
          attachments: [{ filename: 'big.pdf', content: Buffer.alloc(30 * 1024 * 1024, 7) }],
        }),
        (error: { responseCode?: number }) => error.responseCode === 552,
      );
      assert.deepEqual(await ticketRows(), []);
      await world.send({
        from: 'sam@example.com',
        to: `acme@${DOMAIN}`,
        subject: 'Small',
        text: 'x',
      });
      assert.equal((await ticketRows()).length, 1, 'the listener goes on');
    });

    it('advertises SIZE and refuses a declared over-size message at MAIL FROM with 552', async () => {
      const { replies, transcript } = await smtpDialogue(world.listener.port, [
        'EHLO client.example',
        `MAIL FROM:<sam@example.com> SIZE=${40 * 1024 * 1024}`,
        'QUIT',
      ]);
      assert.match(transcript, new RegExp(`^250[- ]SIZE ${30 * 1024 * 1024}\r$`, 'm'));
      assert.match(replies[2]!, /^552 /);
    });

    it('broken MIME, an unknown charset and binary garbage never crash it', async () => {
      const broken = [
        // A multipart whose boundary never comes, and a part in base64 that is not.
        `From: sam@example.com\r\nTo: acme@${DOMAIN}\r\nSubject: Broken\r\nContent-Type: multipart/mixed; boundary="never"\r\n\r\nno parts at all\r\n--never\r\nContent-Transfer-Encoding: base64\r\n\r\n!!!not base64!!!\r\n`,
        `From: sam@example.com\r\nTo: acme@${DOMAIN}\r\nSubject: =?x-unknown?Q?abc?=\r\nContent-Type: text/plain; charset=x-made-up\r\n\r\nText in a made-up charset\r\n`,
        `\u0000\u0001\u00ff garbage without headers \r\n\r\n\u0000`,
        `From: <<<>>>\r\nTo: acme@${DOMAIN}\r\n\r\nNo sender\r\n`,
      ];
      for (const raw of broken) {
        await world.send({ envelope: { from: 'sam@example.com', to: [`acme@${DOMAIN}`] }, raw });
      }
      await world.send({
        from: 'sam@example.com',
        to: `acme@${DOMAIN}`,
        subject: 'After',
        text: 'ok',
      });
      const subjects = (await ticketRows()).map((t) => t.subject);
      assert.ok(subjects.includes('After'), 'still receiving');
      for (const body of await bodies()) {
        assert.ok(![...body.body].some((c) => c.charCodeAt(0) < 9), 'no control characters kept');
      }
    });
  });

  describe('npm run cli -- mail:receive (an MTA pipe)', () => {
    const env = { INBOUND_DOMAIN: DOMAIN, MAIL_FROM: 'Support <support@example.com>' };
    const message = (to: string) =>
      `From: Sam <sam@example.com>\r\nTo: ${to}\r\nSubject: By pipe\r\n\r\nFrom the MTA\r\n`;

    it('opens a ticket from standard input and exits 0', async () => {
      const run = await cliOnTestDb(
        ['mail:receive', '--to', `acme@${DOMAIN}`],
        env,
        message(`acme@${DOMAIN}`),
      );
      assert.equal(run.code, 0, run.stderr);
      assert.match(run.stdout, /opened ACME-1001/);
      assert.deepEqual(
        (await ticketRows()).map((t) => t.subject),
        ['By pipe'],
      );
      const queued = await rows('select id from mail_outbox');
      assert.equal(queued.length, 1, 'the acknowledgement is queued for the app’s worker');
    });

    it('reads the recipient from the headers without --to', async () => {
      const run = await cliOnTestDb(['mail:receive'], env, message(`acme@${DOMAIN}`));
      assert.equal(run.code, 0, run.stderr);
      assert.equal((await ticketRows()).length, 1);
    });

    it('exits 67 (EX_NOUSER) for an unknown workspace', async () => {
      const run = await cliOnTestDb(
        ['mail:receive', '--to', `nobody@${DOMAIN}`],
        env,
        message(`nobody@${DOMAIN}`),
      );
      assert.equal(run.code, 67);
      assert.deepEqual(await ticketRows(), []);
    });

    it('exits 0 for an auto-reply it drops', async () => {
      const run = await cliOnTestDb(
        ['mail:receive', '--to', `acme@${DOMAIN}`],
        env,
        `Auto-Submitted: auto-replied\r\n${message(`acme@${DOMAIN}`)}`,
      );
      assert.equal(run.code, 0);
      assert.match(run.stdout, /dropped/);
      assert.deepEqual(await ticketRows(), []);
    });

    it('exits 75 (EX_TEMPFAIL) when the database cannot be reached, so the MTA retries', async () => {
      const port = await freePort();
      const run = await cliOnTestDb(
        ['mail:receive', '--to', `acme@${DOMAIN}`],
        { ...env, DATABASE_URL: `postgres://nobody:nothing@127.0.0.1:${port}/tickets` },
        message(`acme@${DOMAIN}`),
      );
      assert.equal(run.code, 75, run.stderr);
    });
  });
});
