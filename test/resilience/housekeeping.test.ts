import assert from 'node:assert/strict';
import pino from 'pino';
import { createDb, type Db } from '../../src/db/knex';
import { withScope } from '../../src/db/scopes';
import { HOUSEKEEPING_LOCK } from '../../src/models/housekeeping';
import * as auditEvents from '../../src/models/audit-events';
import * as loginTokens from '../../src/models/login-tokens';
import * as ticketConfirmations from '../../src/models/ticket-confirmations';
import * as tickets from '../../src/models/tickets';
import { runHousekeeping, type HousekeepingDeps } from '../../src/services/housekeeping';
import { DAY, FakeClock, HOUR, MINUTE, testConfig } from '../helpers/app';
import { testDatabase } from '../helpers/database';
import { aHeldTicket, aRequester, aTicket, aWorkspace, rows } from '../helpers/fixtures';

describe('housekeeping', () => {
  const config = testConfig();
  const interval = config.housekeeping.intervalMs;

  function deps(clock: FakeClock, db: Db = testDatabase().db): HousekeepingDeps {
    return { db, clock, logger: pino({ level: 'silent' }), config };
  }

  function system<T>(work: Parameters<typeof withScope<T>>[2]): Promise<T> {
    return withScope(testDatabase().db, { kind: 'system' }, work);
  }

  async function aSession(table: string, sid: string, expire: Date): Promise<void> {
    await testDatabase().db.raw(
      `insert into ${table} (sid, sess, expire) values (?, '{}', to_timestamp(?))`,
      [sid, expire.getTime() / 1000],
    );
  }

  it('deletes expired sessions of both apps, spent sign-in tokens, week-old sent and expired mail, month-old failed mail, ended rate-limit windows and week-old receipts of mail taken, and keeps everything live', async () => {
    const clock = new FakeClock();
    const now = clock.now();
    const at = (ms: number) => new Date(now.getTime() + ms);
    const acme = await aWorkspace('acme');

    for (const table of ['portal_sessions', 'admin_sessions']) {
      await aSession(table, `${table}-expired`, at(-MINUTE));
      await aSession(table, `${table}-live`, at(MINUTE));
    }
    await system(async (trx) => {
      const token = (n: number) => Buffer.alloc(32, n);
      await loginTokens.insert(trx, {
        workspaceId: acme.id,
        email: 'used@x.test',
        tokenHash: token(1),
        expiresAt: at(HOUR),
      });
      await loginTokens.consume(trx, { workspaceId: acme.id, tokenHash: token(1), now });
      await loginTokens.insert(trx, {
        workspaceId: acme.id,
        email: 'expired@x.test',
        tokenHash: token(2),
        expiresAt: at(-MINUTE),
      });
      await loginTokens.insert(trx, {
        workspaceId: acme.id,
        email: 'live@x.test',
        tokenHash: token(3),
        expiresAt: at(HOUR),
      });
      await trx('mail_outbox').insert([
        { workspace_id: acme.id, status: 'sent', sent_at: at(-8 * DAY), last_error: 'old sent' },
        { workspace_id: acme.id, status: 'sent', sent_at: at(-6 * DAY), last_error: 'recent sent' },
        {
          workspace_id: acme.id,
          status: 'expired',
          given_up_at: at(-8 * DAY),
          last_error: 'old expired',
        },
        {
          workspace_id: acme.id,
          status: 'expired',
          given_up_at: at(-6 * DAY),
          last_error: 'recent expired',
        },
        {
          workspace_id: acme.id,
          status: 'failed',
          sealed: Buffer.from('x'),
          given_up_at: at(-31 * DAY),
          last_error: 'old failed',
        },
        {
          workspace_id: acme.id,
          status: 'failed',
          sealed: Buffer.from('x'),
          given_up_at: at(-8 * DAY),
          last_error: 'recent failed',
        },
        {
          workspace_id: acme.id,
          sealed: Buffer.from('x'),
          next_attempt_at: at(-10 * DAY),
          last_error: 'still queued',
        },
      ]);
    });
    await testDatabase()
      .db('rate_limits')
      .insert([
        { key: 'ended', points: 3, expire: now.getTime() - 1 },
        { key: 'running', points: 3, expire: now.getTime() + MINUTE },
        { key: 'forever', points: 3, expire: null },
      ]);
    await testDatabase()
      .db('inbound_receipts')
      .insert([
        { key: Buffer.from('week-old'), received_at: at(-7 * DAY - 1) },
        { key: Buffer.from('six days'), received_at: at(-6 * DAY) },
      ]);

    const pruned = await runHousekeeping(deps(clock));
    assert.deepEqual(pruned, {
      portalSessions: 1,
      adminSessions: 1,
      loginTokens: 2,
      finishedMail: 3,
      rateLimits: 1,
      auditEvents: 0,
      unconfirmedTickets: 0,
      inboundReceipts: 1,
    });
    assert.deepEqual(
      (
        await rows<{ sid: string }>(
          'select sid from portal_sessions union all select sid from admin_sessions order by 1',
        )
      ).map((r) => r.sid),
      ['admin_sessions-live', 'portal_sessions-live'],
    );
    assert.deepEqual(
      (await rows<{ email: string }>('select email from login_tokens')).map((r) => r.email),
      ['live@x.test'],
    );
    assert.deepEqual(
      (await rows<{ last_error: string }>('select last_error from mail_outbox order by 1')).map(
        (r) => r.last_error,
      ),
      ['recent expired', 'recent failed', 'recent sent', 'still queued'],
    );
    assert.deepEqual(
      (await rows<{ key: string }>('select key from rate_limits order by 1')).map((r) => r.key),
      ['forever', 'running'],
    );
    assert.deepEqual(
      (await rows<{ key: Buffer }>('select key from inbound_receipts')).map((r) =>
        r.key.toString(),
      ),
      ['six days'],
    );

    // Once an interval: asked again at once, nobody runs; after the interval, it runs again.
    await aSession('portal_sessions', 'expires-later', at(2 * MINUTE));
    clock.advance(interval - 1);
    assert.equal(await runHousekeeping(deps(clock)), undefined, 'not again within the interval');
    clock.advance(1);
    assert.equal((await runHousekeeping(deps(clock)))?.portalSessions, 2);
  });

  it('deletes audit events older than AUDIT_RETENTION_DAYS in every workspace, and keeps the younger', async () => {
    const clock = new FakeClock();
    const now = clock.now().getTime();
    const retention = testConfig({ AUDIT_RETENTION_DAYS: '30' });
    const acme = await aWorkspace('acme');
    const globex = await aWorkspace('globex');
    await system(async (trx) => {
      for (const workspace of [acme, globex]) {
        for (const age of [30 * DAY + 1, 30 * DAY, DAY]) {
          await auditEvents.insert(trx, {
            workspaceId: workspace.id,
            occurredAt: new Date(now - age),
            action: 'logo.removed',
            actor: { kind: 'system' },
            ip: null,
            details: { age },
          });
        }
      }
    });
    const pruned = await runHousekeeping({ ...deps(clock), config: retention });
    assert.equal(pruned?.auditEvents, 2);
    assert.deepEqual(
      (await rows<{ age: number }>("select (details->>'age')::bigint as age from audit_events"))
        .map((r) => Number(r.age))
        .sort((a, b) => a - b),
      [DAY, DAY, 30 * DAY, 30 * DAY],
    );
  });

  it('deletes held tickets never confirmed after 7 days, with their messages and links, and keeps younger, confirmed and ordinary ones', async () => {
    const clock = new FakeClock();
    const now = clock.now().getTime();
    const acme = await aWorkspace('acme');
    const sam = await aRequester(acme, 'sam@example.com', 'Sam');
    const at = (age: number) => new Date(now - age);
    const stale = await aHeldTicket(acme, { subject: 'stale', at: at(7 * DAY) });
    await aHeldTicket(acme, { subject: 'recent', at: at(7 * DAY - MINUTE) });
    const confirmed = await aHeldTicket(acme, { subject: 'confirmed', at: at(30 * DAY) });
    await aTicket(acme, sam, { subject: 'ordinary', at: at(30 * DAY) });
    await system(async (trx) => {
      for (const ticket of [stale, confirmed]) {
        await ticketConfirmations.insert(trx, {
          workspaceId: acme.id,
          ticketId: ticket.id,
          tokenHash: Buffer.alloc(32, ticket.number),
          expiresAt: at(7 * DAY - HOUR),
        });
      }
      await tickets.release(trx, { workspaceId: acme.id, id: confirmed.id, at: at(29 * DAY) });
    });

    const pruned = await runHousekeeping(deps(clock));
    assert.equal(pruned?.unconfirmedTickets, 1);
    assert.deepEqual(
      (await rows<{ subject: string }>('select subject from tickets order by subject')).map(
        (r) => r.subject,
      ),
      ['confirmed', 'ordinary', 'recent'],
    );
    assert.deepEqual(
      await rows('select id from messages where ticket_id = ?', [stale.id]),
      [],
      'its messages went with it',
    );
    assert.deepEqual(
      await rows('select id from ticket_confirmations where ticket_id = ?', [stale.id]),
      [],
      'and its link',
    );
  });

  it('is one housekeeper for the whole cluster: instances running at once do the work once', async () => {
    const clock = new FakeClock();
    const instances = [
      createDb(testDatabase().url, 2),
      createDb(testDatabase().url, 2),
      createDb(testDatabase().url, 2),
    ];
    try {
      for (let round = 0; round < 5; round += 1) {
        await aSession('portal_sessions', `old-${round}`, new Date(clock.now().getTime() - MINUTE));
        const results = await Promise.all(instances.map((db) => runHousekeeping(deps(clock, db))));
        const ran = results.filter((r) => r !== undefined);
        assert.equal(ran.length, 1, `round ${round}: exactly one instance ran`);
        assert.equal(ran[0]!.portalSessions, 1);
        clock.advance(interval);
      }
      // While one instance holds the lock, another does not wait for it: it skips.
      const holder = await instances[0]!.transaction();
      try {
        await holder.raw('select pg_advisory_xact_lock(?::bigint)', [HOUSEKEEPING_LOCK]);
        const started = Date.now();
        assert.equal(await runHousekeeping(deps(clock, instances[1])), undefined);
        assert.ok(Date.now() - started < 2000, 'did not wait for the lock');
      } finally {
        await holder.rollback();
      }
      assert.ok(await runHousekeeping(deps(clock, instances[1])), 'runs once the lock is free');
    } finally {
      await Promise.all(instances.map((db) => db.destroy()));
    }
  });
});
