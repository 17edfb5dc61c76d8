import type { Knex } from 'knex';

/**
 * "Your data" (#10 point 7): a customer asks for erasure, an admin confirms it.
 *
 * The request lives on the requester row (asking twice cannot make two requests); an erased
 * requester keeps its row, as a placeholder, so ticket numbers, statuses, dates and ratings stay
 * for statistics.
 *
 * Erasure also reaches two tables the agent scope could not write before:
 * - `login_tokens` (they hold the address): a current admin of the workspace may now find and
 *   delete them. Finding is needed too, since a DELETE's WHERE reads the rows.
 * - `audit_events` (labels hold the address): the trail stays append-only except for one kind of
 *   change, made by a current admin: an address replaced by an erased placeholder, an IP address
 *   cleared. A trigger refuses every other change, whatever the scope.
 *
 * The audit actions are added to whatever list the check constraint holds when this runs, so
 * migrations of other features that add actions of their own do not undo each other.
 */
const ACTIONS = ['portal.erasure_requested', 'requester.erased'];

const CURRENT_ADMIN = `workspace_id = app_scoped_workspace_id('agent')
  and exists (select 1 from users u
              where u.workspace_id = app_scoped_workspace_id('agent')
                and u.id = app_user_id() and u.role = 'admin')`;

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
  await knex.raw(`
    alter table requesters
      add column erasure_requested_at timestamptz,
      add column erased_at timestamptz;
    create index requesters_erasure_pending on requesters (workspace_id, erasure_requested_at)
      where erasure_requested_at is not null and erased_at is null;

    create policy login_tokens_erasure_find on login_tokens for select using (${CURRENT_ADMIN});
    create policy login_tokens_erasure on login_tokens for delete using (${CURRENT_ADMIN});

    create policy audit_events_redact on audit_events for update
      using (${CURRENT_ADMIN}) with check (${CURRENT_ADMIN});

    create function audit_events_redact_only() returns trigger language plpgsql as $$
    begin
      if (new.workspace_id, new.id, new.occurred_at, new.action, new.actor_kind, new.actor_id,
          new.subject_id, new.details::text)
         is distinct from (old.workspace_id, old.id, old.occurred_at, old.action, old.actor_kind,
          old.actor_id, old.subject_id, old.details::text)
         or (new.actor_label is distinct from old.actor_label
             and new.actor_label !~ '^erased-[0-9a-f-]{36}@invalid$')
         or (new.subject_label is distinct from old.subject_label
             and new.subject_label !~ '^erased-[0-9a-f-]{36}@invalid$')
         or (new.ip is distinct from old.ip and new.ip is not null)
      then
        raise exception 'audit events can only be redacted' using errcode = 'insufficient_privilege';
      end if;
      return new;
    end $$;
    create trigger audit_events_redact_only before update on audit_events
      for each row execute function audit_events_redact_only();
  `);
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
  await knex.raw(`
    drop trigger audit_events_redact_only on audit_events;
    drop function audit_events_redact_only();
    drop policy audit_events_redact on audit_events;
    drop policy login_tokens_erasure on login_tokens;
    drop policy login_tokens_erasure_find on login_tokens;
    drop index requesters_erasure_pending;
    alter table requesters drop column erasure_requested_at, drop column erased_at;
  `);
}
