import type { Knex } from 'knex';

/**
 * A security event for the audit trail: a sign-in code given up after its last wrong try (someone
 * may be guessing). Added to whatever list the check constraint holds when this runs, as the
 * earlier audit migrations do, so other features' actions survive.
 */
const ACTION = 'portal.signin_code_exhausted';

async function auditActions(knex: Knex): Promise<string[]> {
  const result = await knex.raw<{ rows: { def: string }[] }>(`
    select pg_get_constraintdef(oid) as def from pg_constraint
     where conrelid = 'audit_events'::regclass and conname = 'audit_events_action_check'`);
  return [...(result.rows[0]?.def ?? '').matchAll(/'([a-z_.]+)'/g)].map((m) => m[1]!);
}

async function setAuditActions(knex: Knex, actions: string[]): Promise<void> {
  await knex.raw(`
    alter table audit_events drop constraint audit_events_action_check;
    alter table audit_events add constraint audit_events_action_check
      check (action in (${actions.map((a) => `'${a}'`).join(', ')}));
  `);
}

export async function up(knex: Knex): Promise<void> {
  const actions = await auditActions(knex);
  if (!actions.includes(ACTION)) await setAuditActions(knex, [...actions, ACTION]);
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw(`
    select set_config('app.scope', 'system', true);
    delete from audit_events where action = '${ACTION}';
  `);
  await setAuditActions(
    knex,
    (await auditActions(knex)).filter((a) => a !== ACTION),
  );
}
