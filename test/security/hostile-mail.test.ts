import assert from 'node:assert/strict';
import fc from 'fast-check';
import { withScope } from '../../src/db/scopes';
import { receiveMail } from '../../src/services/inbound-mail';
import { issueReplyAddress } from '../../src/services/reply-addresses';
import { makeTestApp, type TestApp } from '../helpers/app';
import { aRequester, aTicket, aWorkspace, rows } from '../helpers/fixtures';
import { hostileString, looseUtf8 } from '../helpers/hostile';

/**
 * Mail comes from anyone, in any shape. Generated messages, raw bytes or mail-like text with
 * hostile headers, charsets, transfer encodings and MIME structure, go through the one inbound
 * service to every kind of recipient: each is taken, dropped, refused or deferred, and nothing
 * ever fails or logs an error. Each run prints its seed; FC_SEED=<seed> replays it.
 */
const SEED = process.env.FC_SEED ? Number(process.env.FC_SEED) : Date.now() % 2 ** 31;
const DOMAIN = 'in.example.test';
const KINDS = new Set(['added', 'opened', 'dropped', 'refused', 'unknown-recipient', 'deferred']);

const charset = fc.constantFrom('utf-8', 'iso-8859-1', 'x-unknown', 'utf-7', 'gb2312', '');
const encodedWord = fc
  .tuple(charset, fc.constantFrom('B', 'Q', 'X'), hostileString(200))
  .map(([cs, enc, text]) => `=?${cs}?${enc}?${text}?=`);
const headerValue = fc.oneof(hostileString(500), encodedWord);
const address = fc.oneof(
  { weight: 3, arbitrary: fc.constant('jo@example.com') },
  fc.constant('Jo <jo@example.com>'),
  fc.constant('mallory@example.net'),
  fc.constant('support@example.com'),
  fc.constant('MAILER-DAEMON@example.com'),
  headerValue,
);
const boundary = fc.constantFrom('b', '', '"x y"', 'a'.repeat(100));
const contentType = fc.oneof(
  charset.map((cs) => `text/plain; charset=${cs}`),
  fc.constant('text/html; charset=utf-8'),
  boundary.map((b) => `multipart/mixed; boundary=${b}`),
  boundary.map((b) => `multipart/alternative; boundary=${b}`),
  fc.constant('multipart/report; report-type=delivery-status; boundary=b'),
  fc.constant('application/octet-stream'),
  headerValue,
);
const body = fc.oneof(
  hostileString(5_000),
  fc.constant('<html><body><p>Hi<script>alert(1)</script></p></body></html>'),
  fc.constant(
    '--b\r\nContent-Type: text/plain\r\n\r\nHello\r\n--b\r\nContent-Type: image/png\r\nContent-Disposition: attachment; filename="a.png"\r\nContent-Transfer-Encoding: base64\r\n\r\niVBORw0KGgo=\r\n--b--\r\n',
  ),
  fc.constant('--b\r\nContent-Type: text/plain\r\n\r\nno closing boundary'),
  fc.constant('On Mon, Jo wrote:\r\n> quoted\r\n> history\r\n'),
);
const extraHeader = fc.constantFrom(
  'Auto-Submitted: auto-replied',
  'Auto-Submitted: no',
  'Precedence: bulk',
  'X-Autoreply: yes',
  'List-Id: <list.example.com>',
  'Content-Transfer-Encoding: base64',
  'Content-Transfer-Encoding: quoted-printable',
  'Content-Transfer-Encoding: x-junk',
  'MIME-Version: 1.0',
);
const message = fc.record({
  from: address,
  subject: headerValue,
  contentType,
  extra: fc.array(extraHeader, { maxLength: 3 }),
  body,
});
const raw = fc.oneof(
  { weight: 1, arbitrary: fc.uint8Array({ maxLength: 3_000 }).map((a) => Buffer.from(a)) },
  {
    weight: 5,
    arbitrary: message.map((m) =>
      looseUtf8(
        [
          `From: ${m.from}`,
          `Subject: ${m.subject}`,
          `Content-Type: ${m.contentType}`,
          ...m.extra,
          '',
          m.body,
        ].join('\r\n'),
      ),
    ),
  },
);

describe('hostile inbound mail, generated (fast-check)', () => {
  let t: TestApp;
  let replyAddress: string;

  before(() => {
    process.stdout.write(
      `      fast-check seed: FC_SEED=${SEED} (replay: FC_SEED=${SEED} npx mocha test/security/hostile-mail.test.ts)\n`,
    );
  });

  beforeEach(async () => {
    t = makeTestApp({
      env: { INBOUND_DOMAIN: DOMAIN, MAIL_FROM: 'Support <support@example.com>' },
    });
    const acme = await aWorkspace('acme');
    const jo = await aRequester(acme, 'jo@example.com', 'Jo');
    const ticket = await aTicket(acme, jo, { subject: 'Printer' });
    const issued = await withScope(t.deps.db, { kind: 'system' }, (trx) =>
      issueReplyAddress(trx, DOMAIN, {
        workspaceId: acme.id,
        ticketId: ticket.id,
        requesterId: jo.id,
        at: t.clock.now(),
      }),
    );
    replyAddress = issued!;
  });

  it('any message to any recipient is taken, dropped, refused or deferred: never an error', async function () {
    this.timeout(120_000);
    const recipient = fc.constantFrom(
      () => replyAddress,
      () => replyAddress.toUpperCase(),
      () => `reply+${'0'.repeat(40)}@${DOMAIN}`,
      () => `acme@${DOMAIN}`,
      () => `nobody@${DOMAIN}`,
      () => 'acme@elsewhere.test',
    );
    const envelopeFrom = fc.oneof(
      { weight: 3, arbitrary: fc.constant(undefined) },
      { weight: 3, arbitrary: fc.constant('jo@example.com') },
      fc.constant(''),
      hostileString(300),
    );
    const seen = new Set<string>();
    await fc.assert(
      fc.asyncProperty(raw, recipient, envelopeFrom, async (bytes, to, from) => {
        const logged = t.logLines.length;
        const outcomes = await receiveMail(t.deps, bytes, { from, to: [to()] });
        assert.ok(Array.isArray(outcomes));
        for (const outcome of outcomes) {
          assert.ok(KINDS.has(outcome.kind), outcome.kind);
          seen.add(outcome.kind);
        }
        const errors = t.logLines.slice(logged).filter((line) => /"level":(50|60)/.test(line));
        assert.deepEqual(errors, []);
        // The per-sender limits would otherwise defer every later message of the run alike.
        await rows('delete from rate_limits');
      }),
      { seed: SEED, numRuns: process.env.FC_RUNS ? Number(process.env.FC_RUNS) : 150 },
    );
    // The run went past the parser and the loop checks: mail was kept, and mail was refused.
    assert.ok(seen.has('added') || seen.has('opened'), [...seen].join(', '));
    assert.ok(seen.has('dropped'), [...seen].join(', '));
  });
});
