import assert from 'node:assert/strict';
import { withScope, type Scope } from '../../src/db/scopes';
import { knexPlaceholders, type Statement } from '../../src/db/statements';
import type { Workspace } from '../../src/models/workspaces';
import * as tickets from '../../src/models/tickets';
import * as ticketSearch from '../../src/models/ticket-search';
import { searchQuery } from '../../src/models/ticket-search';
import {
  customerSearchQuery,
  type CustomerTicketSearch,
} from '../../src/models/customer-ticket-search';
import { threadPageStatement } from '../../src/models/ticket-thread';
import { testDatabase } from '../helpers/database';
import { aRequester, aWorkspace, rows } from '../helpers/fixtures';

/** An agent's id for scopes over tickets and messages, whose policies do not ask who the agent is. */
const ANY_AGENT = '00000000-0000-4000-8000-000000000000';

interface PlanNode {
  'Node Type': string;
  'Relation Name'?: string;
  'Index Name'?: string;
  'Rows Removed by Filter'?: number;
  'Rows Removed by Index Recheck'?: number;
  'Rows Removed by Join Filter'?: number;
  'Actual Rows': number;
  'Actual Loops': number;
  Plans?: PlanNode[];
}

function nodes(plan: PlanNode): PlanNode[] {
  return [plan, ...(plan.Plans ?? []).flatMap(nodes)];
}

type Trx = Parameters<Parameters<typeof withScope>[2]>[0];

/**
 * How often a prepared statement of this connection was planned, generically and afresh. Per
 * connection: earlier tests may have run the same statement on this pooled connection, so
 * callers compare the counts before and after.
 */
async function preparedCounts(trx: Trx, sql: string) {
  type Counts = { name: string; generic_plans: string; custom_plans: string };
  const result = await trx.raw<{ rows: Counts[] }>(
    'select name, generic_plans, custom_plans from pg_prepared_statements where statement = ?',
    [sql],
  );
  const [row] = result.rows;
  return {
    name: row?.name,
    generic: Number(row?.generic_plans ?? 0),
    custom: Number(row?.custom_plans ?? 0),
  };
}

/**
 * Tickets this transaction has read so far (rows from sequential and index scans), and its
 * sequential scans of tickets: what a function's statements read, which EXPLAIN cannot see.
 */
async function ticketsRead(trx: Trx): Promise<{ rows: number; seqScans: number }> {
  const result = await trx.raw<{ rows: { n: string; seq_scans: string }[] }>(
    `select coalesce(seq_tup_read, 0) + coalesce(idx_tup_fetch, 0) as n,
            coalesce(seq_scan, 0) as seq_scans
       from pg_stat_xact_user_tables where relname = 'tickets'`,
  );
  const [row] = result.rows;
  return { rows: Number(row?.n ?? 0), seqScans: Number(row?.seq_scans ?? 0) };
}

/**
 * Runs the app's own query under a scope with EXPLAIN ANALYZE and returns every plan node. The
 * model's knex query is compiled to SQL, or its statement taken as it is, so the test plans
 * exactly what the page runs.
 */
async function planOf(
  scope: Scope,
  build: (
    trx: Parameters<Parameters<typeof withScope>[2]>[0],
  ) => { toSQL(): { sql: string; bindings: readonly unknown[] } } | Statement,
  options: { indexesOnly?: boolean } = {},
): Promise<PlanNode[]> {
  return withScope(testDatabase().db, scope, async (trx) => {
    // indexesOnly asks whether an index can serve at all (it cannot when row-level security
    // keeps a condition out of the index scan), not which plan a small table would pick.
    if (options.indexesOnly) await trx.raw('set local enable_seqscan = off');
    const query = build(trx);
    const { sql, bindings } =
      'text' in query ? knexPlaceholders(query.text, query.values ?? []) : query.toSQL();
    const result = await trx.raw<{ rows: { 'QUERY PLAN': [{ Plan: PlanNode }] }[] }>(
      `explain (analyze, format json) ${sql}`,
      bindings as never,
    );
    return nodes(result.rows[0]!['QUERY PLAN'][0].Plan);
  });
}

/**
 * Row-level security must not cost a page its index. The policies are written so the planner
 * can estimate them; when it could not, it thought a requester had a handful of tickets and
 * read and sorted all of them to show the first 25.
 */
describe('query plans under row-level security', () => {
  let acme: Workspace;
  let requesterId: string;

  beforeEach(async () => {
    acme = await aWorkspace('acme');
    const heavy = await aRequester(acme, 'heavy@example.com', 'Heavy');
    requesterId = heavy.id;
    // 1,000 tickets of heavy's, 3,000 of 1,000 other requesters.
    await rows(
      `insert into requesters (workspace_id, email, name)
       select ?::uuid, 'customer' || g || '@example.com', 'Customer ' || g
         from generate_series(1, 1000) g`,
      [acme.id],
    );
    await rows(
      `insert into tickets (workspace_id, number, requester_id, subject, status, created_at,
                            updated_at, last_activity_at)
       select ?::uuid, 1000 + g,
              case when g % 4 = 0 then ?::uuid
                   else (select id from requesters
                          where email = 'customer' || (1 + g % 1000) || '@example.com') end,
              'Ticket ' || g, 'open', ts, ts, ts
         from generate_series(1, 4000) g,
              lateral (select timestamptz '2026-01-01' + g * interval '1 hour' as ts) t`,
      [acme.id, requesterId],
    );
    await testDatabase().db.raw('analyze tickets, requesters');
  });

  it('a requester’s first page reads 26 rows from the index in order, not all 1,000 of theirs', async () => {
    const plan = await planOf({ kind: 'requester', workspaceId: acme.id, requesterId }, () =>
      tickets.plainListStatement({ workspaceId: acme.id, filter: { requesterId }, limit: 26 }),
    );
    const types = plan.map((n) => n['Node Type']);
    assert.ok(!types.includes('Sort'), `no sort: ${types.join(' > ')}`);
    const scanned = Math.max(...plan.map((n) => n['Actual Rows'] * n['Actual Loops']));
    assert.ok(scanned <= 26, `read ${scanned} rows: ${types.join(' > ')}`);
  });

  it('an agent’s inbox page reads 26 rows from the index in order, not the whole workspace', async () => {
    const plan = await planOf({ kind: 'agent', workspaceId: acme.id, userId: ANY_AGENT }, () =>
      tickets.plainListStatement({ workspaceId: acme.id, filter: {}, limit: 26 }),
    );
    const types = plan.map((n) => n['Node Type']);
    assert.ok(!types.includes('Sort'), `no sort: ${types.join(' > ')}`);
    const scanned = Math.max(...plan.map((n) => n['Actual Rows'] * n['Actual Loops']));
    assert.ok(scanned <= 26, `read ${scanned} rows: ${types.join(' > ')}`);
  });

  it('an inbox search reads a rare word’s tickets from the trigram index, a common word’s page from the activity index, with one plan for every search', async () => {
    // The subject and address branches run inside functions (migrations 20261201120000 and
    // 20261201140000), out of EXPLAIN's sight: what a search read is counted by PostgreSQL's
    // per-transaction table statistics instead.
    await rows(`update tickets set subject = 'Needle in a haystack' where number = 3000`);
    await testDatabase().db.raw('analyze tickets');
    const [middle] = await rows<{ last_activity_at: Date; id: string }>(
      `select last_activity_at, id from tickets order by last_activity_at desc, id desc
        offset 2000 limit 1`,
    );
    const agent: Scope = { kind: 'agent', workspaceId: acme.id, userId: ANY_AGENT };
    await withScope(testDatabase().db, agent, async (trx) => {
      // Whether an index can serve at all (row-level security can keep it from doing so): on a
      // table this small PostgreSQL would rather read it whole.
      await trx.raw('set local enable_seqscan = off');
      const cursor = { at: middle!.last_activity_at, id: middle!.id };
      const input = (text: string, after?: typeof cursor) => ({
        workspaceId: acme.id,
        search: { query: { text } },
        after,
        limit: 26,
      });
      const { text: sql } = ticketSearch.pageStatement(trx, input('ticket'));
      const plansBefore = await preparedCounts(trx, sql);
      const searches = [
        ['ticket', undefined, 26, 26],
        ['ticket', cursor, 26, 26],
        ['needle', undefined, 1, 1],
        ['heavy@exa', undefined, 26, 26],
        ['zzzz', undefined, 0, 0],
        ['needle', undefined, 1, 1],
      ] as const;
      for (const [text, after, listed, most] of searches) {
        const before = await ticketsRead(trx);
        const page = await ticketSearch.listPage(trx, input(text, after));
        const read = await ticketsRead(trx);
        const label = `${text}${after ? ', a later page' : ''}`;
        assert.equal(page.length, listed, label);
        assert.equal(read.seqScans - before.seqScans, 0, `${label}: no sequential scan`);
        assert.ok(read.rows - before.rows <= most, `${label}: read ${read.rows - before.rows}`);
      }
      const plansAfter = await preparedCounts(trx, sql);
      assert.ok(plansAfter.name, 'a search is a prepared statement');
      assert.equal(plansAfter.custom - plansBefore.custom, 0, 'never planned afresh');
      assert.equal(plansAfter.generic - plansBefore.generic, searches.length);
    });
  });

  it('an inbox search by address reads a page of each matching requester’s tickets, not all of them', async () => {
    // The address branch runs inside a function (migration 20261201120000), out of EXPLAIN's
    // sight: what it read is counted by PostgreSQL's per-transaction table statistics instead.
    const agent: Scope = { kind: 'agent', workspaceId: acme.id, userId: ANY_AGENT };
    // heavy has 1,000 tickets; customer99 and customer990–999 three or four each. A later page
    // of heavy's starts its reading at the cursor.
    const [middle] = await rows<{ last_activity_at: Date; id: string }>(
      `select last_activity_at, id from tickets where requester_id = ?
        order by last_activity_at desc, id desc offset 500 limit 1`,
      [requesterId],
    );
    for (const [text, most, after] of [
      ['heavy@exa', 26, undefined],
      ['heavy@exa', 26, { at: middle!.last_activity_at, id: middle!.id }],
      ['customer99', 11 * 4, undefined],
    ] as const) {
      const { listed, read }: { listed: number; read: number } = await withScope(
        testDatabase().db,
        agent,
        async (trx) => {
          const before = await ticketsRead(trx);
          const page = await ticketSearch.listPage(trx, {
            workspaceId: acme.id,
            search: { query: { text } },
            after,
            limit: 26,
          });
          return { listed: page.length, read: (await ticketsRead(trx)).rows - before.rows };
        },
      );
      assert.equal(listed, 26, text);
      assert.ok(read <= most, `${text}: read ${read} tickets`);
    }
  });

  it('an inbox search by address lists what a plain query lists, page by page, for few matching addresses and for many', async () => {
    const agent: Scope = { kind: 'agent', workspaceId: acme.id, userId: ANY_AGENT };
    // Some tickets by other statuses, and one whose subject also matches, so each branch counts.
    await rows(`update tickets set status = 'pending' where number % 7 = 0`);
    await rows(`update tickets set subject = 'Re: customer99 again' where number = 1500`);
    type Row = { id: string; number: number; last_activity_at: Date };
    const expected = (text: string, status: string | undefined, after?: Row) =>
      rows<Row>(
        `select t.id, t.number, t.last_activity_at from tickets t
           join requesters r on r.workspace_id = t.workspace_id and r.id = t.requester_id
          where t.workspace_id = ? and t.held_since is null
            and (t.subject ilike ? or r.email ilike ?)
            and (?::text is null or t.status = ?::text)
            and (?::timestamptz is null or (t.last_activity_at, t.id) < (?::timestamptz, ?::uuid))
          order by t.last_activity_at desc, t.id desc limit 26`,
        [
          acme.id,
          `%${text}%`,
          `%${text}%`,
          status ?? null,
          status ?? null,
          after?.last_activity_at ?? null,
          after?.last_activity_at ?? null,
          after?.id ?? null,
        ],
      );
    // 1 requester (1,000 tickets), 11 (3 or 4 each), 112 and 1,001: the last two are more
    // addresses than the per-requester reading takes on.
    const matching = { 'heavy@': 1, customer99: 11, customer1: 112, '@example.com': 1001 };
    for (const [text, count] of Object.entries(matching)) {
      const [found] = await rows<{ n: string }>(
        'select count(*) as n from requesters where workspace_id = ? and email ilike ?',
        [acme.id, `%${text}%`],
      );
      assert.equal(Number(found?.n), count, text);
      for (const status of [undefined, 'open' as const]) {
        let after: Row | undefined;
        for (let page = 1; page <= 3; page += 1) {
          const want: Row[] = await expected(text, status, after);
          const got: ticketSearch.ListedTicket[] = await withScope(
            testDatabase().db,
            agent,
            (trx) =>
              ticketSearch.listPage(trx, {
                workspaceId: acme.id,
                search: { query: { text }, ...(status ? { status } : {}) },
                after: after && { at: after.last_activity_at, id: after.id },
                limit: 26,
              }),
          );
          const label = `${text}, ${status ?? 'any status'}, page ${page}`;
          if (page === 1) assert.equal(want.length, 26, `${label}: the fixture fills the page`);
          assert.deepEqual(
            got.map((ticket) => ticket.number),
            want.map((row) => row.number),
            label,
          );
          if (want.length < 26) break;
          after = want[want.length - 1];
        }
      }
    }
  });

  it('the database refuses an address holding any character a search takes for never in one, and only those', async () => {
    const refused: string[] = [];
    for (let code = 1; code < 128; code += 1) {
      const c = String.fromCharCode(code);
      try {
        await rows(`insert into requesters (workspace_id, email, name) values (?, ?, 'X')`, [
          acme.id,
          `x${c}y${code}@example.com`,
        ]);
      } catch (error) {
        // Capitals meet another constraint (addresses are stored in lower case).
        const { code: sqlState, constraint } = error as { code?: string; constraint?: string };
        assert.equal(sqlState, '23514', `code ${code}: ${String(error)}`);
        if (constraint === 'requesters_email_unseparated') refused.push(c);
      }
    }
    const flagged = [...Array(127).keys()]
      .map((i) => String.fromCharCode(i + 1))
      .filter((c) => ticketSearch.NEVER_IN_AN_ADDRESS.test(c));
    assert.deepEqual(refused, flagged);
    assert.deepEqual(flagged, [...'\t\n\v\f\r "(),:;<>']);
  });

  it('a phrase search leaves the address branch out and lists what a plain query on subjects and addresses lists', async () => {
    const agent: Scope = { kind: 'agent', workspaceId: acme.id, userId: ANY_AGENT };
    // Subjects 'Ticket 1', 'Ticket 10' … 'Ticket 1999' and one with an address in it.
    await rows(
      `update tickets set subject = 'Ticket 1 from heavy@example.com' where number = 1500`,
    );
    for (const text of ['ticket 1', 'Ticket 1 from heavy', 'from heavy@example.com', 'x;y']) {
      const input = { workspaceId: acme.id, search: { query: { text } }, limit: 26 };
      const { sql } = await withScope(testDatabase().db, agent, (trx) =>
        Promise.resolve(searchQuery(trx, input).toSQL()),
      );
      assert.ok(!sql.includes('app_tickets_by_address'), `${text}: ${sql}`);
      const pattern = `%${ticketSearch.escapeLike(text)}%`;
      const want = await rows<{ number: number }>(
        `select t.number from tickets t
           join requesters r on r.workspace_id = t.workspace_id and r.id = t.requester_id
          where t.workspace_id = ? and (t.subject ilike ? or r.email ilike ?)
          order by t.last_activity_at desc, t.id desc limit 26`,
        [acme.id, pattern, pattern],
      );
      const got: ticketSearch.ListedTicket[] = await withScope(testDatabase().db, agent, (trx) =>
        ticketSearch.listPage(trx, input),
      );
      assert.deepEqual(
        got.map((ticket) => ticket.number),
        want.map((row) => row.number),
        text,
      );
      if (text.startsWith('ticket')) assert.equal(got.length, 26, `${text} fills a page`);
    }
    // A word that could be part of an address keeps its address branch.
    const { sql } = await withScope(testDatabase().db, agent, (trx) =>
      Promise.resolve(
        searchQuery(trx, {
          workspaceId: acme.id,
          search: { query: { text: 'heavy@exa' } },
          limit: 26,
        }).toSQL(),
      ),
    );
    assert.ok(sql.includes('app_tickets_by_address'), sql);
  });

  it('the inbox is planned once per connection, and that one plan still reads 26 rows in order', async () => {
    const agent: Scope = { kind: 'agent', workspaceId: acme.id, userId: ANY_AGENT };
    const planMode = async (trx: Parameters<Parameters<typeof withScope>[2]>[0]) =>
      (
        await trx.raw<{ rows: { mode: string }[] }>(
          `select current_setting('plan_cache_mode') as mode`,
        )
      ).rows[0]?.mode;
    await withScope(testDatabase().db, agent, async (trx) => {
      const input = { workspaceId: acme.id, search: {}, limit: 26 };
      const { text: sql } = ticketSearch.pageStatement(trx, input);
      const before = await preparedCounts(trx, sql);
      for (let i = 0; i < 3; i += 1) {
        assert.equal((await ticketSearch.listPage(trx, input)).length, 26);
      }
      const after = await preparedCounts(trx, sql);
      assert.ok(after.name, 'the inbox list is a prepared statement');
      assert.equal(after.custom - before.custom, 0, 'never planned afresh');
      assert.equal(after.generic - before.generic, 3);
      assert.equal(await planMode(trx), 'force_generic_plan');
      // The one plan, for the values of an actual page: the activity index, no sort, 26 rows.
      // EXPLAIN EXECUTE takes no bind parameters: the workspace's id is the test's own uuid.
      const explained = await trx.raw<{ rows: { 'QUERY PLAN': [{ Plan: PlanNode }] }[] }>(
        `explain (analyze, format json) execute "${after.name}"('${acme.id}', 26)`,
      );
      const plan = nodes(explained.rows[0]!['QUERY PLAN'][0].Plan).filter(
        (n) => n['Actual Loops'] > 0,
      );
      const types = plan.map((n) => n['Node Type']);
      assert.ok(!types.includes('Sort'), `no sort: ${types.join(' > ')}`);
      const scanned = Math.max(...plan.map((n) => n['Actual Rows'] * n['Actual Loops']));
      assert.ok(scanned <= 26, `read ${scanned} rows: ${types.join(' > ')}`);
    });
  });

  it('an inbox of one status reads a page of that status, however few and old its tickets', async () => {
    // The three oldest of the 4,000 tickets are pending, none is closed: along the activity index
    // alone, a page of either status read every ticket of the workspace to find so few.
    await rows(`update tickets set status = 'pending' where number in (1001, 1002, 1003)`);
    await testDatabase().db.raw('analyze tickets');
    const agent: Scope = { kind: 'agent', workspaceId: acme.id, userId: ANY_AGENT };
    await withScope(testDatabase().db, agent, async (trx) => {
      const pages = [
        ['pending', 3],
        ['closed', 0],
        ['open', 26],
      ] as const;
      for (const [status, listed] of pages) {
        const before = await ticketsRead(trx);
        const page = await ticketSearch.listPage(trx, {
          workspaceId: acme.id,
          search: { status },
          limit: 26,
        });
        const read = (await ticketsRead(trx)).rows - before.rows;
        assert.equal(page.length, listed, status);
        assert.ok(
          page.every((ticket) => ticket.status === status),
          `${status}: only ${status} tickets`,
        );
        assert.ok(read <= 26, `${status}: read ${read} tickets`);
      }
    });
  });

  it('the inbox’s one plan looks up each listed ticket’s requester, even where most workspaces are small', async () => {
    // The generic plan is made for an average workspace. Among many small ones its estimate of a
    // workspace's requesters is a handful, and PostgreSQL judged reading them all once cheaper
    // than 26 lookups: for a large workspace that read every one of its requesters on every page.
    await rows(
      `with small as (
         insert into workspaces (slug, name)
         select 'small-' || g, 'Small ' || g from generate_series(1, 200) g returning id)
       insert into requesters (workspace_id, email, name)
       select id, 'only@example.com', 'Only' from small`,
    );
    await testDatabase().db.raw('analyze workspaces, tickets, requesters');
    const agent: Scope = { kind: 'agent', workspaceId: acme.id, userId: ANY_AGENT };
    await withScope(testDatabase().db, agent, async (trx) => {
      await trx.raw('set local plan_cache_mode = force_generic_plan');
      const { text: sql } = ticketSearch.pageStatement(trx, {
        workspaceId: acme.id,
        search: {},
        limit: 26,
      });
      // EXPLAIN EXECUTE takes no bind parameters: the workspace's id is the test's own uuid.
      await trx.raw(`prepare skewed_inbox as ${sql}`);
      const explained = await trx.raw<{ rows: { 'QUERY PLAN': [{ Plan: PlanNode }] }[] }>(
        `explain (analyze, format json) execute skewed_inbox('${acme.id}', 26)`,
      );
      const plan = nodes(explained.rows[0]!['QUERY PLAN'][0].Plan);
      const types = plan.map(
        (n) => `${n['Node Type']}${n['Relation Name'] ? ` ${n['Relation Name']}` : ''}`,
      );
      const read = Math.max(...plan.map((n) => n['Actual Rows'] * n['Actual Loops']));
      assert.ok(read <= 26, `read ${read} rows: ${types.join(' > ')}`);
      const removed = Math.max(0, ...plan.map((n) => n['Rows Removed by Join Filter'] ?? 0));
      assert.equal(removed, 0, `no requester read only to be thrown away: ${types.join(' > ')}`);
      await trx.raw('deallocate skewed_inbox');
    });
  });

  describe('a customer’s search (issue 10)', () => {
    const requesterScope = (): Scope => ({ kind: 'requester', workspaceId: acme.id, requesterId });

    beforeEach(async () => {
      // One public message a ticket, and a rare word in a subject and in a message of heavy's
      // and of someone else's, so a plan that ignored the requester would find both.
      await rows(
        `insert into messages (workspace_id, ticket_id, author_kind, author_name, body, created_at)
         select workspace_id, id, 'agent', 'Alex', 'We are looking into ticket ' || number,
                created_at from tickets`,
      );
      await rows(
        `update tickets set subject = 'Needle in a haystack' where number in (1004, 1005)`,
      );
      await rows(
        `update messages set body = 'A rare zeppelin appeared'
          where ticket_id in (select id from tickets where number in (1008, 1009))`,
      );
      await testDatabase().db.raw('analyze tickets, messages');
    });

    /** Rows a node looked at: those it passed on and those its filter threw away. */
    const examined = (n: PlanNode) =>
      (n['Actual Rows'] +
        (n['Rows Removed by Filter'] ?? 0) +
        (n['Rows Removed by Index Recheck'] ?? 0)) *
      n['Actual Loops'];

    // What searchCustomerTickets runs: the words' union, or the plain list without words.
    async function planOfSearch(search: CustomerTicketSearch) {
      const input = { workspaceId: acme.id, filter: { requesterId }, limit: 26 };
      const { words, status } = search;
      const plan = await planOf(requesterScope(), (trx) =>
        words
          ? customerSearchQuery(trx, { ...input, search: { words, status } })
          : tickets.plainListStatement({ ...input, status }),
      );
      // Nodes that never ran (a policy's subquery for another scope) read nothing.
      const ran = plan.filter((n) => n['Actual Loops'] > 0);
      const types = ran.map(
        (n) =>
          `${n['Node Type']}${n['Relation Name'] ? ` on ${n['Relation Name']}` : ''}${n['Index Name'] ? ` using ${n['Index Name']}` : ''}`,
      );
      const read = (table: string) =>
        Math.max(0, ...ran.filter((n) => n['Relation Name'] === table).map(examined));
      return { types, read };
    }

    it('a rare word of a subject is looked up in the word index, reading only what matches', async () => {
      const { types, read } = await planOfSearch({ words: { text: 'needle' } });
      assert.ok(
        types.includes('Bitmap Index Scan using tickets_subject_words'),
        `reads tickets_subject_words: ${types.join(' > ')}`,
      );
      // Its subject branch reads the two tickets with the word: heavy's and someone else's,
      // whom row-level security drops; the message branch reads only heavy's.
      assert.ok(read('messages') <= 1000, `${read('messages')} messages: ${types.join(' > ')}`);
    });

    it('words read at most the requester’s own tickets and messages, never a whole table', async () => {
      for (const text of ['needle', 'zeppelin', 'ticket', 'looking into']) {
        const { types, read } = await planOfSearch({ words: { text } });
        for (const table of ['tickets', 'messages']) {
          assert.ok(!types.includes(`Seq Scan on ${table}`), `${text}: ${types.join(' > ')}`);
          assert.ok(
            read(table) <= 1000,
            `${text}: ${read(table)} ${table} rows, heavy has 1,000: ${types.join(' > ')}`,
          );
        }
      }
    });

    it('a common word stops reading once it has a page', async () => {
      const { types, read } = await planOfSearch({ words: { text: 'looking into' } });
      assert.ok(read('messages') <= 26, `${read('messages')} messages: ${types.join(' > ')}`);
    });

    it('a reference is looked up by its number', async () => {
      const { types } = await planOfSearch({ words: { text: 'ACME-1004', number: 1004 } });
      assert.ok(
        types.includes('Index Scan on tickets using tickets_workspace_id_number_key'),
        types.join(' > '),
      );
    });

    it('the list without words reads its page from the index in order; a status filter at most the requester’s tickets', async () => {
      const { types, read } = await planOfSearch({});
      assert.ok(!types.some((t) => t.startsWith('Sort')), `no sort: ${types.join(' > ')}`);
      assert.ok(read('tickets') <= 26, `read ${read('tickets')}: ${types.join(' > ')}`);
      // A status the requester rarely has: at most their own tickets, whichever way it goes.
      await rows(`update tickets set status = 'closed' where number % 16 <> 0`);
      await testDatabase().db.raw('analyze tickets');
      const byStatus = await planOfSearch({ status: 'open' });
      assert.ok(!byStatus.types.includes('Seq Scan on tickets'), byStatus.types.join(' > '));
      assert.ok(byStatus.read('tickets') <= 1000, byStatus.types.join(' > '));
    });
  });

  it('a page of a long thread reads at most a page of messages and of status changes, each from its index', async () => {
    const [ticket] = await rows<{ id: string }>('select id from tickets where number = 1004');
    await rows(
      `insert into messages (workspace_id, ticket_id, author_kind, requester_id, author_name, body,
                             created_at)
       select ?::uuid, ?::uuid, 'requester', ?::uuid, 'Heavy', 'Message ' || g,
              timestamptz '2026-01-01' + g * interval '1 minute'
         from generate_series(1, 2000) g`,
      [acme.id, ticket!.id, requesterId],
    );
    await rows(
      `insert into ticket_events (workspace_id, ticket_id, actor_kind, requester_id, actor_name,
                                  from_status, to_status, created_at)
       select ?::uuid, ?::uuid, 'requester', ?::uuid, 'Heavy',
              case when g % 2 = 0 then 'resolved' else 'open' end,
              case when g % 2 = 0 then 'open' else 'resolved' end,
              timestamptz '2026-01-01' + g * interval '1 minute' + interval '30 seconds'
         from generate_series(1, 500) g`,
      [acme.id, ticket!.id, requesterId],
    );
    // One message of the page has a file: its files are looked up, no other message's.
    await rows(
      `insert into attachments (workspace_id, message_id, position, name, content_type, size,
                                storage_key)
       select workspace_id, id, 0, 'photo.png', 'image/png', 3, gen_random_uuid()
         from messages where ticket_id = ?::uuid and body = 'Message 1990'`,
      [ticket!.id],
    );
    await testDatabase().db.raw('analyze messages, ticket_events');
    const plan = await planOf(
      { kind: 'requester', workspaceId: acme.id, requesterId },
      () =>
        threadPageStatement({
          workspaceId: acme.id,
          ticketId: ticket!.id,
          includeInternal: false,
          limit: 30,
        }),
      { indexesOnly: true },
    );
    const read = (table: string) =>
      plan
        .filter((n) => n['Relation Name'] === table)
        .map((n) => n['Actual Rows'] * n['Actual Loops']);
    assert.ok(read('messages').length > 0 && Math.max(...read('messages')) <= 31, 'messages');
    assert.ok(
      read('ticket_events').length > 0 && Math.max(...read('ticket_events')) <= 31,
      'status changes',
    );
    const filesProbed = plan
      .filter((n) => n['Relation Name'] === 'attachments')
      .map((n) => n['Actual Loops']);
    assert.deepEqual(filesProbed, [1], 'files looked up for the one message that has some');
  });
});
