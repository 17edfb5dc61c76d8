import assert from 'node:assert/strict';
import { spelledOut } from '../../migrations/20261201110000_inline_policy_helpers';
import { testDatabase } from '../helpers/database';
import { rows } from '../helpers/fixtures';

/** Every helper call a policy made, as PostgreSQL prints it. */
const CALLS = [
  'app_scope()',
  'app_workspace_id()',
  'app_requester_id()',
  'app_ticket_ids()',
  'app_user_id()',
  "app_scoped_workspace_id('agent'::text)",
  "app_scoped_workspace_id('signin'::text)",
  "app_scoped_workspace_id('requester'::text)",
  "app_scoped_workspace_id('visitor'::text)",
  'app_scoped_requester_id()',
  'app_scoped_ticket_ids()',
];

const WORKSPACE = '11111111-1111-4111-8111-111111111111';
const REQUESTER = '22222222-2222-4222-8222-222222222222';
const TICKETS = '{33333333-3333-4333-8333-333333333333,44444444-4444-4444-8444-444444444444}';
const USER = '55555555-5555-4555-8555-555555555555';

/** Settings as the scopes set them, plus the ones no scope sets (unset, and set but empty). */
const SETTINGS: Record<string, string>[] = [
  {},
  { 'app.scope': '', 'app.workspace_id': '', 'app.requester_id': '', 'app.ticket_ids': '' },
  ...['agent', 'signin', 'requester', 'visitor', 'system'].map((scope) => ({
    'app.scope': scope,
    'app.workspace_id': WORKSPACE,
    'app.requester_id': scope === 'requester' ? REQUESTER : '',
    'app.ticket_ids': scope === 'visitor' ? TICKETS : '',
    'app.user_id': scope === 'agent' ? USER : '',
  })),
  // Settings no scope combines: a helper must still agree with what replaced it.
  {
    'app.scope': 'visitor',
    'app.workspace_id': WORKSPACE,
    'app.requester_id': REQUESTER,
    'app.ticket_ids': TICKETS,
    'app.user_id': USER,
  },
];

describe('row-level security without helper calls', () => {
  it('no policy calls a SQL function of ours: none is inlined again each time a statement is planned', async () => {
    const calling = await rows<{ policy: string }>(`
      select pol.polrelid::regclass || '.' || pol.polname || ' calls ' || p.proname as policy
        from pg_policy pol
        join pg_depend d on d.classid = 'pg_policy'::regclass and d.objid = pol.oid
                        and d.refclassid = 'pg_proc'::regclass
        join pg_proc p on p.oid = d.refobjid
       where p.pronamespace = current_schema()::regnamespace
         and p.prolang = (select oid from pg_language where lanname = 'sql')`);
    assert.deepEqual(calling, []);
    // Not for want of policies: every table with row-level security has some, and they read
    // the scope's settings themselves.
    const unreadable = await rows<{ relname: string }>(`
      select c.relname from pg_class c
       where c.relnamespace = current_schema()::regnamespace and c.relrowsecurity
         and not exists (select 1 from pg_policies p
                          where p.schemaname = current_schema() and p.tablename = c.relname
                            and coalesce(p.qual, p.with_check) like '%current_setting(''app.scope''%')`);
    assert.deepEqual(unreadable, []);
  });

  it('what replaced each call gives the same value as the call, in every scope', async () => {
    const { db } = testDatabase();
    for (const settings of SETTINGS) {
      await db.transaction(async (trx) => {
        for (const [name, value] of Object.entries(settings)) {
          await trx.raw('select set_config(?, ?, true)', [name, value]);
        }
        for (const call of CALLS) {
          const inline = spelledOut(call);
          assert.doesNotMatch(inline, /app_\w+\(/, call);
          const result = await trx.raw<{
            rows: { called: unknown; inline: unknown; same: boolean }[];
          }>(
            `select ${call}::text as called, (${inline})::text as inline,
                    ${call} is not distinct from (${inline}) as same`,
          );
          const row = result.rows[0]!;
          assert.ok(
            row.same,
            `${call} in ${JSON.stringify(settings)}: ${String(row.called)} ≠ ${String(row.inline)}`,
          );
        }
      });
    }
  });

  it('tickets and messages have one permissive policy each, testing the system scope, then the agent’s, the requester’s and the visitor’s', async () => {
    for (const table of ['tickets', 'messages']) {
      const all = await rows<{ name: string; qual: string; permissive: string; cmd: string }>(
        `select policyname as name, qual, permissive, cmd from pg_policies
          where schemaname = current_schema() and tablename = ?`,
        [table],
      );
      const policies = all.filter((p) => p.permissive === 'PERMISSIVE');
      assert.deepEqual(
        policies.map((p) => p.name),
        [`${table}_scoped`],
      );
      // The others only narrow who may change or remove rows (20261201190000): no read plans them.
      assert.deepEqual(
        all
          .filter((p) => p.permissive !== 'PERMISSIVE')
          .map((p) => `${p.name} ${p.cmd}`)
          .sort(),
        table === 'tickets'
          ? ['tickets_removed_by_staff DELETE']
          : ['messages_changed_by_staff UPDATE', 'messages_removed_by_staff DELETE'],
      );
      const order = ['system', 'agent', 'requester', 'visitor'].map((scope) =>
        policies[0]!.qual.indexOf(`= '${scope}'::text`),
      );
      assert.ok(
        order.every((at) => at >= 0),
        `${table}: ${order.join(', ')}`,
      );
      assert.deepEqual(
        [...order].sort((a, b) => a - b),
        order,
        `${table}: ${order.join(', ')}`,
      );
    }
  });
});
