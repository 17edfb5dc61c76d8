import assert from 'node:assert/strict';
import { PREPARED } from '../../src/db/deferred-statements';
import type { Db, Trx } from '../../src/db/knex';
import { withScope, type Scope } from '../../src/db/scopes';
import { builtRows, knexPlaceholders, queryRows } from '../../src/db/statements';
import { beginTransaction } from '../../src/db/transactions';
import * as tickets from '../../src/models/tickets';
import type { Workspace } from '../../src/models/workspaces';
import { testDatabase } from '../helpers/database';
import {
  aHeldTicket,
  aRequester,
  aTicket,
  aWorkspace,
  joAndSamWithATicketEach,
  rows,
} from '../helpers/fixtures';

/**
 * The models' hot statements skip knex's query runner on the app's own transactions
 * (db/statements.ts). Whichever way a statement goes, it must return the same rows, under the same
 * row-level security, and stay visible to whoever listens for knex's `query` events.
 */
describe('statements past knex’s runner', () => {
  const system: Scope = { kind: 'system' };
  let db: Db;

  beforeEach(() => {
    db = testDatabase().db;
  });

  /** The same work on the app's transaction (direct) and on knex's own (through trx.raw). */
  async function bothWays<T>(scope: Scope, work: (trx: Trx) => Promise<T>): Promise<[T, T]> {
    const direct = await withScope(db, scope, work);
    const viaKnex = await db.transaction(async (trx) => {
      await trx.raw(
        `select set_config('app.scope', ?, true), set_config('app.workspace_id', ?, true),
                set_config('app.requester_id', ?, true)`,
        [
          scope.kind,
          scope.kind === 'system' ? '' : scope.workspaceId,
          scope.kind === 'requester' ? scope.requesterId : '',
        ],
      );
      return work(trx);
    });
    return [direct, viaKnex];
  }

  it('knex’s placeholders take the values in the order the text uses them, repeats included', () => {
    assert.deepEqual(knexPlaceholders('select $2::int, $1::text, $2::int + 1', ['a', 7]), {
      sql: 'select ?::int, ?::text, ?::int + 1',
      bindings: [7, 'a', 7],
    });
    assert.deepEqual(knexPlaceholders('select 1', []), { sql: 'select 1', bindings: [] });
  });

  it('a statement returns the same rows either way, placeholders repeated and out of order', async () => {
    await aWorkspace('acme', { name: 'Acme' });
    await aWorkspace('globex', { name: 'Globex' });
    const text = `select slug, name, $2::int as n from workspaces
                   where slug = $1 or (slug = 'globex' and $2::int > 0) order by slug`;
    const [direct, viaKnex] = await bothWays(system, (trx) =>
      queryRows<{ slug: string; name: string; n: number }>(trx, text, ['acme', 3], {
        prepared: true,
      }),
    );
    assert.deepEqual(direct, [
      { slug: 'acme', name: 'Acme', n: 3 },
      { slug: 'globex', name: 'Globex', n: 3 },
    ]);
    assert.deepEqual(viaKnex, direct);
  });

  it('a knex builder’s rows are the same run by knex or sent past its runner, under row-level security', async () => {
    const { acme, jo } = await joAndSamWithATicketEach();
    const scope: Scope = { kind: 'requester', workspaceId: acme.id, requesterId: jo.id };
    const [direct, viaKnex] = await bothWays(scope, async (trx) => {
      const found = await builtRows<{ subject: string }>(
        trx,
        trx('tickets').select('subject').orderBy('subject').options({ name: PREPARED }),
      );
      // Marked PREPARED, it is now one of the connection's prepared statements.
      const prepared = await queryRows<{ n: number }>(
        trx,
        `select count(*)::int as n from pg_prepared_statements where statement like $1`,
        ['%from "tickets" order by "subject"%'],
      );
      return { found, prepared: prepared[0]?.n };
    });
    assert.deepEqual(direct, { found: [{ subject: 'Jo’s printer' }], prepared: 1 });
    assert.deepEqual(viaKnex, direct);
  });

  it('is announced to knex’s query listeners, and refused once its transaction has ended', async () => {
    const seen: { sql: string; bindings: unknown[] }[] = [];
    const listen = (query: { sql: string; bindings: unknown[] }) => seen.push(query);
    db.on('query', listen);
    try {
      const trx = await beginTransaction(db, { readOnly: true });
      await queryRows(trx, 'select $1::int as n', [5]);
      await trx.commit();
      assert.deepEqual(
        seen.map((q) => [q.sql, q.bindings]),
        [
          ['BEGIN TRANSACTION READ ONLY;', []],
          ['select $1::int as n', [5]],
          ['COMMIT;', []],
        ],
      );
      await assert.rejects(queryRows(trx, 'select 1'), /after its transaction ended/);
    } finally {
      db.off('query', listen);
    }
  });

  describe('the plain list', () => {
    let acme: Workspace;
    let joId: string;
    let ids: string[];

    beforeEach(async () => {
      acme = await aWorkspace('acme');
      const jo = await aRequester(acme, 'jo@example.com');
      const sam = await aRequester(acme, 'sam@example.com');
      joId = jo.id;
      const made = [];
      // Ties in last activity, so the id must break them; statuses and a held ticket to filter.
      for (let i = 0; i < 12; i++) {
        made.push(
          await aTicket(acme, i % 3 === 0 ? sam : jo, {
            subject: `Ticket ${i}`,
            status: i % 2 === 0 ? 'open' : 'resolved',
            at: new Date(Date.UTC(2026, 10, 1 + Math.floor(i / 2))),
          }),
        );
      }
      await aHeldTicket(acme, { email: 'jo@example.com', subject: 'Held' });
      ids = made.filter((_t, i) => i % 4 !== 1).map((t) => t.id);
    });

    it('reads what the knex builder it replaced read, for every shape', async () => {
      const [middle] = await rows<{ last_activity_at: Date; id: string }>(
        `select last_activity_at, id from tickets order by last_activity_at desc, id desc
          offset 5 limit 1`,
      );
      const after = { at: middle!.last_activity_at, id: middle!.id };
      const filters: tickets.TicketFilter[] = [{ requesterId: joId }, { ticketIds: ids }, {}];
      let compared = 0;
      for (const filter of filters) {
        for (const status of [undefined, 'open', 'resolved'] as const) {
          for (const cursor of [undefined, after]) {
            const input = { workspaceId: acme.id, filter, status, after: cursor, limit: 4 };
            const pair: [tickets.Ticket[], tickets.Ticket[]] = await withScope(
              db,
              system,
              async (trx) => {
                const builder = tickets.listableTickets(trx, input);
                if (status) builder.where({ status });
                const expected: tickets.TicketRow[] = await builder
                  .orderBy([...tickets.newestActivityFirst])
                  .limit(input.limit);
                return [await tickets.listPlain(trx, input), expected.map(tickets.toTicket)];
              },
            );
            const [fromStatement, fromBuilder] = pair;
            const label = JSON.stringify({ filter, status, after: cursor !== undefined });
            assert.deepEqual(fromStatement, fromBuilder, label);
            compared += fromStatement.length;
          }
        }
      }
      assert.ok(compared > 40, `the shapes returned rows to compare (${compared})`);
    });
  });
});
