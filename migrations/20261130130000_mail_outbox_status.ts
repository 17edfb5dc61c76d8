import type { Knex } from 'knex';

/**
 * The outbox learns to give up, and to say so. A message is `queued` until it is `sent`, or
 * `failed` (retried for the configured window, or sealed under a secret no longer configured),
 * or `expired` (a sign-in mail whose link ran out before it could be sent: never sent late).
 * `queued_at` is the app clock's time, which the retry window counts from (reset by mail:retry).
 * The recipient's domain is kept in the clear so operators can see where mail is stuck without
 * opening a body that holds a live sign-in link.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.raw(`
    alter table mail_outbox
      add column status text not null default 'queued'
        constraint mail_outbox_status check (status in ('queued', 'sent', 'failed', 'expired')),
      add column queued_at timestamptz,
      add column expires_at timestamptz,
      add column given_up_at timestamptz,
      add column recipient_domain text;
    -- The outbox is under forced row-level security: its data steps run in the system scope.
    select set_config('app.scope', 'system', true);
    update mail_outbox set status = 'sent' where sent_at is not null;
    update mail_outbox set queued_at = created_at;
    alter table mail_outbox
      alter column queued_at set not null,
      alter column queued_at set default now();
    drop index mail_outbox_due;
    create index mail_outbox_due on mail_outbox (next_attempt_at) where status = 'queued';
  `);
}

/**
 * Back to a queue that only knows sent and unsent: failed messages are queued again, as they were
 * before; expired ones have no body left to send and are dropped.
 */
export async function down(knex: Knex): Promise<void> {
  await knex.raw(`
    select set_config('app.scope', 'system', true);
    delete from mail_outbox where status = 'expired';
    drop index mail_outbox_due;
    create index mail_outbox_due on mail_outbox (next_attempt_at) where sent_at is null;
    alter table mail_outbox
      drop column status,
      drop column queued_at,
      drop column expires_at,
      drop column given_up_at,
      drop column recipient_domain;
  `);
}
