import assert from 'node:assert/strict';
import { withScope, type Scope } from '../../src/db/scopes';
import type { Workspace } from '../../src/models/workspaces';
import * as tickets from '../../src/models/tickets';
import { searchQuery } from '../../src/models/ticket-search';
import { testDatabase } from '../helpers/database';
import { aRequester, aWorkspace, rows } from '../helpers/fixtures';

/** An agent's id for scopes over tickets and messages, whose policies do not ask who the agent is. */
const ANY_AGENT = '00000000-0000-4000-8000-000000000000';

interface PlanNode {
  'Node Type': string;
  'Relation Name'?: string;
  'Actual Rows': number;
  'Actual Loops': number;
  Plans?: PlanNode[];
}

function nodes(plan: PlanNode): PlanNode[] {
  return [plan, ...(plan.Plans ?? []).flatMap(nodes)];
}

/**
 * Runs the app's own query under a scope with EXPLAIN ANALYZE and returns every plan node. The
 * model's knex query is compiled to SQL, so the test plans exactly what the page runs.
 */
async function planOf(
  scope: Scope,
  build: (trx: Parameters<Parameters<typeof withScope>[2]>[0]) => {
    toSQL(): { sql: string; bindings: readonly unknown[] };
  },
  options: { indexesOnly?: boolean } = {},
): Promise<PlanNode[]> {
  return withScope(testDatabase().db, scope, async (trx) => {
    // indexesOnly asks whether an index can serve at all (it cannot when row-level security
    // keeps a condition out of the index scan), not which plan a small table would pick.
    if (options.indexesOnly) await trx.raw('set local enable_seqscan = off');
    const { sql, bindings } = build(trx).toSQL();
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
    const plan = await planOf({ kind: 'requester', workspaceId: acme.id, requesterId }, (trx) =>
      tickets.listByActivityQuery(trx, {
        workspaceId: acme.id,
        filter: { requesterId },
        limit: 26,
      }),
    );
    const types = plan.map((n) => n['Node Type']);
    assert.ok(!types.includes('Sort'), `no sort: ${types.join(' > ')}`);
    const scanned = Math.max(...plan.map((n) => n['Actual Rows'] * n['Actual Loops']));
    assert.ok(scanned <= 26, `read ${scanned} rows: ${types.join(' > ')}`);
  });

  it('an agent’s inbox page reads 26 rows from the index in order, not the whole workspace', async () => {
    const plan = await planOf({ kind: 'agent', workspaceId: acme.id, userId: ANY_AGENT }, (trx) =>
      tickets.listByActivityQuery(trx, { workspaceId: acme.id, filter: {}, limit: 26 }),
    );
    const types = plan.map((n) => n['Node Type']);
    assert.ok(!types.includes('Sort'), `no sort: ${types.join(' > ')}`);
    const scanned = Math.max(...plan.map((n) => n['Actual Rows'] * n['Actual Loops']));
    assert.ok(scanned <= 26, `read ${scanned} rows: ${types.join(' > ')}`);
  });

  it('an inbox search for a rare word or an address reads trigram indexes, not every ticket', async () => {
    await rows(`update tickets set subject = 'Needle in a haystack' where number = 3000`);
    await testDatabase().db.raw('analyze tickets');
    for (const text of ['needle', 'heavy@exa']) {
      const plan = await planOf(
        { kind: 'agent', workspaceId: acme.id, userId: ANY_AGENT },
        (trx) => searchQuery(trx, { workspaceId: acme.id, search: { query: { text } }, limit: 26 }),
        { indexesOnly: true },
      );
      // Nodes that never ran (a policy's subquery for another scope) read nothing.
      const ran = plan.filter((n) => n['Actual Loops'] > 0);
      const types = ran.map(
        (n) => `${n['Node Type']}${n['Relation Name'] ? ` on ${n['Relation Name']}` : ''}`,
      );
      assert.ok(
        !types.includes('Seq Scan on tickets'),
        `${text}: no sequential scan of tickets: ${types.join(' > ')}`,
      );
      const ticketRows = ran
        .filter((n) => n['Relation Name'] === 'tickets')
        .map((n) => n['Actual Rows'] * n['Actual Loops']);
      assert.ok(
        Math.max(...ticketRows) <= 1000,
        `${text}: read ${Math.max(...ticketRows)} tickets`,
      );
    }
  });
});
