import assert from 'node:assert/strict';
import { withScope, type Scope } from '../../src/db/scopes';
import type { Workspace } from '../../src/models/workspaces';
import * as tickets from '../../src/models/tickets';
import { testDatabase } from '../helpers/database';
import { aRequester, aWorkspace, rows } from '../helpers/fixtures';

interface PlanNode {
  'Node Type': string;
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
): Promise<PlanNode[]> {
  return withScope(testDatabase().db, scope, async (trx) => {
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
    const other = await aRequester(acme, 'other@example.com', 'Other');
    await rows(
      `insert into tickets (workspace_id, number, requester_id, subject, status, created_at,
                            updated_at, last_activity_at)
       select ?::uuid, 1000 + g, case when g % 4 = 0 then ?::uuid else ?::uuid end,
              'Ticket ' || g, 'open', ts, ts, ts
         from generate_series(1, 4000) g,
              lateral (select timestamptz '2026-01-01' + g * interval '1 hour' as ts) t`,
      [acme.id, requesterId, other.id],
    );
    await testDatabase().db.raw('analyze tickets');
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
    const plan = await planOf({ kind: 'agent', workspaceId: acme.id }, (trx) =>
      tickets.listByActivityQuery(trx, { workspaceId: acme.id, filter: {}, limit: 26 }),
    );
    const types = plan.map((n) => n['Node Type']);
    assert.ok(!types.includes('Sort'), `no sort: ${types.join(' > ')}`);
    const scanned = Math.max(...plan.map((n) => n['Actual Rows'] * n['Actual Loops']));
    assert.ok(scanned <= 26, `read ${scanned} rows: ${types.join(' > ')}`);
  });
});
