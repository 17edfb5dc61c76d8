import type { Knex } from 'knex';

/**
 * Two security events of inbound mail for the audit trail: a ticket opened by mailing a
 * workspace's address (the sender's address is as unproven as a portal visitor's), and a reply
 * refused because it came from someone other than the ticket's requester (a forged or
 * forwarded From). The actions are added to whatever list the check constraint holds when this
 * runs, as the erasure migration does, so other features' actions survive.
 */
const ACTIONS = ['mail.ticket_opened', 'mail.reply_refused'];

async function auditActions(knex: Knex): Promise<string[]> {
  const result = await knex.raw<{ rows: { def: string }[] }>(`
    select pg_get_constraintdef(oid) as def from pg_constraint
     where conrelid = 'audit_events'::regclass and conname = 'audit_events_action_check'`);
  const def = result.rows[0]?.def ?? '';
  return [...def.matchAll(/'([a-z_.]+)'/g)].map((m) => m[1]!);
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
  await setAuditActions(knex, [...actions, ...ACTIONS.filter((a) => !actions.includes(a))]);
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw(`
    select set_config('app.scope', 'system', true);
    delete from audit_events where action in (${ACTIONS.map((a) => `'${a}'`).join(', ')});
  `);
  const actions = await auditActions(knex);
  await setAuditActions(
    knex,
    actions.filter((a) => !ACTIONS.includes(a)),
  );
}
