import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Response } from 'supertest';
import { withScope } from '../../src/db/scopes';
import { openExportCursor, type ListedTicket } from '../../src/models/ticket-search';
import * as tickets from '../../src/models/tickets';
import type { Requester } from '../../src/models/requesters';
import type { Workspace } from '../../src/models/workspaces';
import { hashPassword } from '../../src/services/passwords';
import { isoString } from '../../src/services/iso-time';
import { csvRecord, exportColumns, exportRow, neutralise } from '../../src/services/ticket-export';
import { MINUTE, type TestApp } from '../helpers/app';
import type { Browser } from '../helpers/client';
import { testDatabase } from '../helpers/database';
import {
  aRequester,
  aTicket,
  aWorkspace,
  anAgent,
  rows,
  setStatus,
  type TicketFixture,
  acmeWithJo,
} from '../helpers/fixtures';

const BASE = new Date('2026-11-20T08:00:00Z');
const at = (minutes: number) => new Date(BASE.getTime() + minutes * MINUTE);
const PASSWORD = 'correct horse battery staple';
const HEADER = [
  'Reference',
  'Subject',
  'Requester name',
  'Requester email',
  'Status',
  'Created',
  'Last reply',
  'CSAT rating',
  'CSAT comment',
  'Rated at',
];
const BOM = Buffer.from([0xef, 0xbb, 0xbf]);
const FORMULA_STARTS = ['=', '+', '-', '@', '\t', '\r'];

/**
 * A strict RFC 4180 reader: records end in CRLF (the last one too), a quote may only open a
 * field, quotes inside quoted fields are doubled, and a bare CR or LF outside quotes is an error.
 */
function parseCsv(text: string): string[][] {
  const records: string[][] = [];
  let record: string[] = [];
  let field = '';
  let quoted = false;
  let wasQuoted = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (quoted) {
      if (c !== '"') field += c;
      else if (text[i + 1] === '"') ((field += '"'), i++);
      else quoted = false;
    } else if (c === '"') {
      if (field !== '' || wasQuoted) throw new Error(`quote inside an unquoted field at ${i}`);
      quoted = wasQuoted = true;
    } else if (c === ',') {
      record.push(field);
      field = '';
      wasQuoted = false;
    } else if (c === '\r' && text[i + 1] === '\n') {
      record.push(field);
      records.push(record);
      record = [];
      field = '';
      wasQuoted = false;
      i++;
    } else if (c === '\r' || c === '\n') {
      throw new Error(`bare line break outside quotes at ${i}`);
    } else {
      if (wasQuoted) throw new Error(`text after a closing quote at ${i}`);
      field += c;
    }
  }
  if (quoted || field !== '' || record.length)
    throw new Error('the last record does not end in CRLF');
  return records;
}

/** superagent's parser hook: keep the bytes as they came (the BOM included). */
function rawBody(res: Response, done: (error: Error | null, body: Buffer) => void): void {
  const stream = res as unknown as http.IncomingMessage;
  const chunks: Buffer[] = [];
  stream.on('data', (chunk: Buffer) => chunks.push(chunk));
  stream.on('end', () => done(null, Buffer.concat(chunks)));
}

interface Download {
  res: Response;
  bytes: Buffer;
  records: string[][];
}

async function download(browser: Browser, path: string): Promise<Download> {
  const res = await browser.agent
    .get(path)
    .set('Host', browser.host)
    .redirects(0)
    .buffer(true)
    .parse(rawBody);
  const bytes = res.body as Buffer;
  const isCsv = res.status === 200 && bytes.subarray(0, 3).equals(BOM);
  return { res, bytes, records: isCsv ? parseCsv(bytes.subarray(3).toString('utf8')) : [] };
}

function rate(
  ticket: TicketFixture,
  rating: number,
  comment: string | null,
  ratedAt = new Date('2026-11-24T12:00:00Z'),
) {
  return withScope(testDatabase().db, { kind: 'system' }, (trx) =>
    tickets.setRating(trx, {
      workspaceId: ticket.workspaceId,
      id: ticket.id,
      rating,
      comment,
      at: ratedAt,
    }),
  );
}

/**
 * Many tickets at once, straight in SQL (the export is about reading them, not making them). Each
 * row carries a long CSAT comment, so the streaming tests fill the sockets with few rows: the
 * comment has no index, while every subject costs a dozen trigram index entries to insert (the
 * trigram index is kept without a pending list, so each insert updates it on the spot).
 */
async function bulkTickets(
  workspace: Workspace,
  requester: Requester,
  count: number,
): Promise<void> {
  await rows(
    `insert into tickets (workspace_id, number, requester_id, subject, status, created_at, updated_at,
                          last_activity_at, last_reply_at, rating, rating_comment, rated_at)
     select ?, 5000 + g, ?, 'Bulk ticket ' || g, 'closed', ts, ts, ts, ts,
            4, repeat('A comment long enough to make the row several hundred bytes. ', 10), ts
       from generate_series(1, ?) g, lateral (select ?::timestamptz + g * interval '1 second' as ts) x`,
    [workspace.id, requester.id, count, BASE],
  );
}

describe('CSV export of tickets', () => {
  let passwordHash: string;
  before(async () => {
    passwordHash = await hashPassword(PASSWORD);
  });

  let t: TestApp;
  let browser: Browser;
  let acme: Workspace;
  let jo: Requester;

  beforeEach(async () => {
    ({ t, browser, acme, jo } = await acmeWithJo());
  });

  async function signIn(role: 'agent' | 'admin' = 'agent'): Promise<void> {
    await anAgent(acme, { email: 'agent@acme.test', passwordHash, role });
    assert.equal((await browser.signInAgent('agent@acme.test', PASSWORD)).status, 303);
  }

  it('sends a signed-out visitor to the sign-in page', async () => {
    await aTicket(acme, jo);
    const res = await browser.get('/admin/tickets/export.csv');
    assert.equal(res.status, 303);
    assert.equal(res.headers.location, '/admin/login');
  });

  it('lets an agent (not only an admin) download a UTF-8 CSV attachment named for the workspace and day', async () => {
    await aTicket(acme, jo);
    await signIn('agent');
    const { res, bytes } = await download(browser, '/admin/tickets/export.csv');
    assert.equal(res.status, 200);
    assert.equal(res.headers['content-type'], 'text/csv; charset=utf-8');
    assert.match(
      String(res.headers['content-disposition']),
      /^attachment; filename="?acme-tickets-2026-11-25\.csv"?$/,
    );
    assert.ok(bytes.subarray(0, 3).equals(BOM), 'starts with the UTF-8 byte order mark');
    assert.equal(bytes.indexOf(BOM, 3), -1, 'one BOM only');
  });

  it('an admin can export too', async () => {
    await aTicket(acme, jo);
    await signIn('admin');
    const { res, records } = await download(browser, '/admin/tickets/export.csv');
    assert.equal(res.status, 200);
    assert.equal(records.length, 2);
  });

  it('writes a header row and one row per ticket, newest activity first, with ISO 8601 UTC times', async () => {
    const older = await aTicket(acme, jo, { subject: 'Printer on fire', at: at(0) });
    const newer = await aTicket(acme, jo, { subject: 'Toner low', at: at(30) });
    await withScope(testDatabase().db, { kind: 'system' }, (trx) =>
      tickets.setStatus(trx, {
        workspaceId: acme.id,
        id: older.id,
        status: 'resolved',
        at: at(60),
      }),
    );
    await rate(older, 4, 'Quick and friendly', new Date('2026-11-24T12:00:00Z'));
    await signIn();
    const { bytes, records } = await download(browser, '/admin/tickets/export.csv');
    const text = bytes.subarray(3).toString('utf8');
    assert.ok(text.startsWith(`${HEADER.join(',')}\r\n`), 'the header row, CRLF');
    assert.ok(text.endsWith('\r\n'));
    assert.deepEqual(records[0], HEADER);
    assert.deepEqual([...exportColumns], HEADER);
    const byRef = new Map(records.slice(1).map((r) => [r[0], r]));
    assert.deepEqual(
      records.slice(1).map((r) => r[0]),
      [older.reference, newer.reference],
      'resolving was the latest activity',
    );
    assert.deepEqual(byRef.get('ACME-1001'), [
      'ACME-1001',
      'Printer on fire',
      'Jo Bloggs',
      'jo@example.com',
      'Resolved',
      at(0).toISOString(),
      at(0).toISOString(),
      '4',
      'Quick and friendly',
      '2026-11-24T12:00:00.000Z',
    ]);
    assert.deepEqual(byRef.get('ACME-1002'), [
      'ACME-1002',
      'Toner low',
      'Jo Bloggs',
      'jo@example.com',
      'Open',
      at(30).toISOString(),
      at(30).toISOString(),
      '',
      '',
      '',
    ]);
  });

  it('quotes commas, quotes and line breaks as RFC 4180 says', async () => {
    const sam = await aRequester(acme, 'sam@example.com', 'Smith, "Sam"');
    const ticket = await aTicket(acme, sam, {
      subject: 'Broken, again: "the thing"\nsecond line\r\nthird',
    });
    await setStatus(ticket, 'closed');
    await rate(ticket, 2, 'Too slow,\n"really"');
    await signIn();
    const { bytes, records } = await download(browser, '/admin/tickets/export.csv');
    const text = bytes.toString('utf8');
    assert.ok(
      text.includes('"Broken, again: ""the thing""\nsecond line\r\nthird"'),
      'quoted, quotes doubled',
    );
    assert.ok(text.includes(',"Smith, ""Sam""",'));
    assert.ok(text.includes(',"Too slow,\n""really""",'));
    const row = records[1]!;
    assert.equal(row.length, HEADER.length);
    assert.equal(row[1], 'Broken, again: "the thing"\nsecond line\r\nthird');
    assert.equal(row[2], 'Smith, "Sam"');
    assert.equal(row[8], 'Too slow,\n"really"');
  });

  it('neutralises cells that start like a formula (= + - @ tab CR) in subject, requester name and CSAT comment', async () => {
    for (const [i, start] of FORMULA_STARTS.entries()) {
      const requester = await aRequester(
        acme,
        `r${i}@example.com`,
        `${start}HYPERLINK("http://evil.test")`,
      );
      const ticket = await aTicket(acme, requester, {
        subject: `${start}1+1 subject ${i}`,
        at: at(i),
      });
      await setStatus(ticket, 'resolved');
      await rate(ticket, 1, `${start}cmd|' /C calc'!A0`);
    }
    await signIn();
    const { records } = await download(browser, '/admin/tickets/export.csv');
    const body = records.slice(1);
    assert.equal(body.length, FORMULA_STARTS.length);
    for (const [i, start] of FORMULA_STARTS.entries()) {
      const row = body.find((r) => r[1]!.endsWith(`subject ${i}`));
      assert.ok(row, `row ${i}`);
      assert.equal(row[1], `'${start}1+1 subject ${i}`, `subject ${JSON.stringify(start)}`);
      assert.equal(
        row[2],
        `'${start}HYPERLINK("http://evil.test")`,
        `name ${JSON.stringify(start)}`,
      );
      assert.equal(row[8], `'${start}cmd|' /C calc'!A0`, `comment ${JSON.stringify(start)}`);
    }
  });

  it('leaves harmless cells alone, including ones with a formula character later on', async () => {
    const ticket = await aTicket(acme, jo, { subject: 'Price is 2+2=4 @ noon - ok' });
    await setStatus(ticket, 'resolved');
    await rate(ticket, 5, "It's fine = good");
    await signIn();
    const { records } = await download(browser, '/admin/tickets/export.csv');
    assert.equal(records[1]![1], 'Price is 2+2=4 @ noon - ok');
    assert.equal(records[1]![8], "It's fine = good");
    assert.equal(records[1]![7], '5');
  });

  it('honours the inbox filters: status and the search box', async () => {
    const sam = await aRequester(acme, 'sam@globex-mail.org', 'Sam');
    const jam = await aTicket(acme, jo, { subject: 'Printer jam', at: at(1) });
    await aTicket(acme, jo, { subject: 'Printer toner', at: at(2) });
    await aTicket(acme, sam, { subject: 'Lost password', at: at(3) });
    await aTicket(acme, jo, { subject: '100% broken', at: at(4) });
    await setStatus(jam, 'resolved');
    await signIn();
    const refs = async (query: string) =>
      (await download(browser, `/admin/tickets/export.csv${query}`)).records
        .slice(1)
        .map((r) => r[0]);
    assert.deepEqual(await refs('?status=resolved'), ['ACME-1001']);
    assert.deepEqual((await refs('?q=PRINTER')).sort(), ['ACME-1001', 'ACME-1002']);
    assert.deepEqual(await refs('?q=printer&status=open'), ['ACME-1002']);
    assert.deepEqual(await refs('?q=globex-mail'), ['ACME-1003']);
    assert.deepEqual(await refs('?q=acme-1003'), ['ACME-1003']);
    assert.deepEqual(await refs('?q=%25'), ['ACME-1004']);
    assert.deepEqual(await refs('?q=nothing'), []);
    assert.equal((await refs('?status=')).length, 4, 'All');
  });

  it('writes just the BOM and the header row when nothing matches', async () => {
    await signIn();
    const { res, bytes, records } = await download(browser, '/admin/tickets/export.csv?q=nothing');
    assert.equal(res.status, 200);
    assert.deepEqual(records, [HEADER]);
    assert.equal(bytes.toString('utf8'), `\ufeff${HEADER.join(',')}\r\n`);
  });

  it('never holds another workspace’s tickets, even searched by their reference', async () => {
    const globex = await aWorkspace('globex');
    const gina = await aRequester(globex, 'gina@globex.test', 'Gina');
    await aTicket(globex, gina, { subject: 'Globex secret plans' });
    await aTicket(acme, jo, { subject: 'Acme ticket' });
    await signIn();
    for (const query of ['', '?q=GLOBEX-1001', '?q=secret', '?q=gina']) {
      const { bytes, records } = await download(browser, `/admin/tickets/export.csv${query}`);
      assert.ok(!bytes.toString('utf8').includes('Globex'), query);
      assert.ok(!bytes.toString('utf8').includes('gina@'), query);
      assert.ok(records.slice(1).every((r) => r[0]!.startsWith('ACME-')));
    }
  });

  it('holds no message bodies, so internal notes never leave', async () => {
    await aTicket(acme, jo, { subject: 'Printer on fire', body: 'BODY-TEXT-NOT-EXPORTED' });
    await signIn();
    const { bytes, records } = await download(browser, '/admin/tickets/export.csv');
    assert.equal(records.length, 2);
    assert.ok(!bytes.toString('utf8').includes('BODY-TEXT-NOT-EXPORTED'));
  });

  it('refuses an unknown status or an impossible search with a 400 page', async () => {
    await signIn();
    for (const query of [
      '?status=deleted',
      `?q=${'x'.repeat(201)}`,
      '?q=a%00b',
      '?status=open&status=closed',
    ]) {
      const { res } = await download(browser, `/admin/tickets/export.csv${query}`);
      assert.equal(res.status, 400, query);
      assert.match(String(res.headers['content-type']), /^text\/html/);
    }
  });

  it('writes every ticket of a workspace bigger than one batch, in order, each once', async () => {
    await bulkTickets(acme, jo, 2_500);
    await signIn();
    const { res, records } = await download(browser, '/admin/tickets/export.csv');
    assert.equal(res.status, 200);
    const references = records.slice(1).map((r) => r[0]);
    // Bulk tickets 5001–7500, the last one the newest: three batches of the cursor's 1,000.
    assert.equal(new Set(references).size, 2_500, 'no ticket twice');
    assert.deepEqual(
      references,
      Array.from({ length: 2_500 }, (_, i) => `ACME-${7_500 - i}`),
    );
    assert.deepEqual(
      records.slice(1, 2).map((r) => r[5]),
      [new Date(BASE.getTime() + 2_500_000).toISOString()],
    );
  });

  describe('the cursor', () => {
    it('hands out every row a batch at a time, and its transaction ends cleanly when left half-way', async () => {
      await bulkTickets(acme, jo, 6);
      const db = testDatabase().db;
      const batches = await withScope(db, { kind: 'system' }, async (trx) => {
        const cursor = await openExportCursor(trx, {
          workspaceId: acme.id,
          search: {},
          batchSize: 3,
        });
        const sizes: number[] = [];
        for await (const batch of cursor) sizes.push(batch.length);
        return sizes;
      });
      // Two full batches; the fetch after the second finds nothing and hands out nothing.
      assert.deepEqual(batches, [3, 3]);
      const firstOnly = await withScope(db, { kind: 'system' }, async (trx) => {
        const cursor = await openExportCursor(trx, {
          workspaceId: acme.id,
          search: {},
          batchSize: 3,
        });
        for await (const batch of cursor) return batch.map((ticket) => ticket.number);
        return [];
      });
      assert.deepEqual(firstOnly, [5006, 5005, 5004]);
      // Left after the first batch, with the second already asked for: the transaction still
      // committed, and nothing of it is left running on its connection.
      const [left] = await rows<{ n: number }>(
        `select count(*)::int as n from pg_stat_activity
          where datname = current_database() and pid <> pg_backend_pid() and state <> 'idle'`,
      );
      assert.equal(left!.n, 0);
    });
  });

  describe('streaming', () => {
    let server: http.Server;
    let port: number;

    beforeEach(async () => {
      server = http.createServer(t.app);
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
      port = (server.address() as AddressInfo).port;
    });

    afterEach(async () => {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    });

    /** A raw request that does not read its response until told to. */
    function openExport(): Promise<{ req: http.ClientRequest; res: http.IncomingMessage }> {
      const sid = browser.cookie('admin_sid', '/admin');
      assert.ok(sid, 'signed in');
      return new Promise((resolve, reject) => {
        const req = http.get(
          {
            host: '127.0.0.1',
            port,
            path: '/admin/tickets/export.csv',
            headers: {
              Host: 'acme.localhost',
              Cookie: `admin_sid=${sid}`,
              'Accept-Encoding': 'identity',
            },
          },
          (res) => {
            res.pause();
            resolve({ req, res });
          },
        );
        req.on('error', reject);
      });
    }

    async function eventually(check: () => Promise<boolean>, what: string): Promise<void> {
      for (let i = 0; i < 100; i++) {
        if (await check()) return;
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
      assert.fail(what);
    }

    async function openTransactions(): Promise<number> {
      const [row] = await rows<{ n: number }>(
        `select count(*)::int as n from pg_stat_activity
          where datname = current_database() and pid <> pg_backend_pid() and state <> 'idle'`,
      );
      return row!.n;
    }

    it('survives a client that goes away mid-download, and leaves no transaction open', async () => {
      // About 10 MB of CSV: more than the sockets between the two ends hold unread.
      await bulkTickets(acme, jo, 15_000);
      await signIn();
      const { req, res } = await openExport();
      assert.equal(res.statusCode, 200);
      // Let the server fill the socket buffers and wait on the slow reader, then hang up.
      await new Promise((resolve) => setTimeout(resolve, 300));
      req.destroy();
      await eventually(
        () =>
          Promise.resolve(
            t.logLines.some((line) => line.includes('ticket export abandoned by the client')),
          ),
        'the export noticed the client leaving',
      );
      await eventually(async () => (await openTransactions()) === 0, 'no transaction left open');
      const pool = (t.deps.db.client as { pool: { numUsed(): number } }).pool;
      await eventually(
        () => Promise.resolve(pool.numUsed() === 0),
        'every connection back in the pool',
      );
      const { res: again, records } = await download(
        browser,
        '/admin/tickets/export.csv?q=ticket%2014999',
      );
      assert.equal(again.status, 200, 'the app still serves exports');
      assert.deepEqual(
        records.slice(1).map((r) => r[0]),
        ['ACME-19999'],
      );
    });

    it('cuts the download instead of ending it short when the database fails mid-export', async () => {
      await bulkTickets(acme, jo, 15_000);
      await signIn();
      const { res } = await openExport();
      assert.equal(res.statusCode, 200);
      await new Promise((resolve) => setTimeout(resolve, 300));
      await rows(
        `select pg_terminate_backend(pid) from pg_stat_activity
          where datname = current_database() and pid <> pg_backend_pid() and query like 'fetch forward%'`,
      );
      const outcome = await new Promise<string>((resolve) => {
        res.on('end', () => resolve('complete'));
        res.on('aborted', () => resolve('aborted'));
        res.on('error', () => resolve('aborted'));
        res.resume();
      });
      assert.equal(outcome, 'aborted');
      await eventually(
        () => Promise.resolve(t.logLines.some((line) => line.includes('ticket export failed'))),
        'the failure is logged',
      );
      await eventually(async () => (await openTransactions()) === 0, 'no transaction left open');
      const { res: again } = await download(browser, '/admin/tickets/export.csv?q=nothing');
      assert.equal(again.status, 200, 'the app still serves exports');
    });
  });
});

describe('export rows (unit)', () => {
  const ticket: ListedTicket = {
    id: '3f1c6f1e-8f2a-4d5b-9c1e-2a3b4c5d6e7f',
    workspaceId: '0c1d2e3f-4a5b-4c6d-8e7f-9a0b1c2d3e4f',
    requesterId: '5e6f7a8b-9c0d-4e1f-a2b3-c4d5e6f7a8b9',
    number: 1042,
    subject: '=SUM(A1:A9)',
    status: 'pending',
    createdAt: new Date('2026-11-01T10:00:00Z'),
    resolvedAt: null,
    lastActivityAt: new Date('2026-11-02T10:00:00Z'),
    lastReplyAt: null,
    rating: null,
    ratingComment: null,
    ratedAt: null,
    heldSince: null,
    requesterName: '@admin',
    requesterEmail: '-x@example.com',
  };

  it('neutralises each formula start with a single quote and leaves other text as it is', () => {
    for (const start of [...FORMULA_STARTS, '\uff1d'])
      assert.equal(neutralise(`${start}x`), `'${start}x`);
    for (const safe of ['', 'plain', ' =leading space', "'already quoted", '1+1'])
      assert.equal(neutralise(safe), safe);
  });

  it('quotes a field with a comma, a quote, a CR or an LF, doubling its quotes, and no other', () => {
    assert.equal(csvRecord(['plain', '', 'a b;c']), 'plain,,a b;c\r\n');
    assert.equal(
      csvRecord(['a,b', 'say "hi"', 'one\rtwo', 'one\ntwo', 'one\r\ntwo', '"']),
      '"a,b","say ""hi""","one\rtwo","one\ntwo","one\r\ntwo",""""\r\n',
    );
    assert.equal(csvRecord([]), '\r\n');
  });

  it('writes instants exactly as toISOString does, and refuses an invalid date as it does', () => {
    const day = 86_400_000;
    const edges = [0, -1, 1, day - 1, day, -day, -day - 1, Date.UTC(2024, 1, 29, 23, 59, 59, 999)];
    const years = [Date.UTC(0, 0, 1) - 1, Date.UTC(9999, 11, 31, 23, 59, 59, 999)];
    const farOut = [Date.UTC(10_000, 0, 1), -62_198_755_200_001, 8.64e15, -8.64e15];
    const spread = Array.from(
      { length: 2_000 },
      (_, i) => Date.UTC(1960, 0, 1) + i * 1_234_567_891,
    );
    for (const at of [...edges, ...years, ...farOut, ...spread]) {
      assert.equal(isoString(new Date(at)), new Date(at).toISOString(), String(at));
    }
    assert.throws(() => isoString(new Date(Number.NaN)), RangeError);
  });

  it('maps a ticket to the columns in order, with empty cells for what is missing', () => {
    assert.deepEqual(exportRow('acme', ticket), [
      'ACME-1042',
      "'=SUM(A1:A9)",
      "'@admin",
      "'-x@example.com",
      'Pending',
      '2026-11-01T10:00:00.000Z',
      '',
      '',
      '',
      '',
    ]);
  });
});
