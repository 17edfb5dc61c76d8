import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { createDb, type Db } from '../../src/db/knex';
import { withScope, type Scope } from '../../src/db/scopes';
import * as attachments from '../../src/models/attachments';
import * as auditEvents from '../../src/models/audit-events';
import * as loginTokens from '../../src/models/login-tokens';
import * as ticketConfirmations from '../../src/models/ticket-confirmations';
import * as replyAddresses from '../../src/models/reply-addresses';
import * as mailOutbox from '../../src/models/mail-outbox';
import * as messages from '../../src/models/messages';
import * as ticketEvents from '../../src/models/ticket-events';
import * as ticketThread from '../../src/models/ticket-thread';
import type { Requester } from '../../src/models/requesters';
import * as tickets from '../../src/models/tickets';
import { searchCustomerTickets } from '../../src/models/customer-ticket-search';
import * as ticketSearch from '../../src/models/ticket-search';
import type { User } from '../../src/models/users';
import type { Workspace } from '../../src/models/workspaces';
import { testDatabase } from '../helpers/database';
import {
  aHeldTicket,
  aRequester,
  aTicket,
  aWorkspace,
  anAgent,
  anAgentMessage,
  rows,
  type TicketFixture,
} from '../helpers/fixtures';

/** An agent's id for scopes over tickets and messages, whose policies do not ask who the agent is. */
const ANY_AGENT = '00000000-0000-4000-8000-000000000000';

const TENANT_TABLES = [
  'requesters',
  'users',
  'login_tokens',
  'tickets',
  'messages',
  'mail_outbox',
  'audit_events',
  'ticket_confirmations',
  'ticket_events',
  'reply_addresses',
  'attachments',
  'attachment_chunks',
];

interface Row {
  id: string;
  [column: string]: unknown;
}

/**
 * PostgreSQL row-level security is the second wall behind the `where` clauses: these tests run
 * queries that "forget" their filters and show the database still returns only the scope's rows.
 */
describe('row-level security', () => {
  let db: Db;
  let acme: Workspace;
  let globex: Workspace;
  let jo: Requester;
  let sam: Requester;
  let agent: User;
  let joTicket: TicketFixture;
  let samTicket: TicketFixture;
  let globexTicket: TicketFixture;

  beforeEach(async () => {
    db = testDatabase().db;
    acme = await aWorkspace('acme');
    globex = await aWorkspace('globex');
    jo = await aRequester(acme, 'jo@example.com', 'Jo');
    sam = await aRequester(acme, 'sam@example.com', 'Sam');
    const gail = await aRequester(globex, 'gail@example.com', 'Gail');
    agent = await anAgent(acme);
    const globexAgent = await anAgent(globex, { email: 'agent@globex.test' });
    joTicket = await aTicket(acme, jo, { subject: 'Jo’s printer' });
    samTicket = await aTicket(acme, sam, { subject: 'Sam’s invoice' });
    globexTicket = await aTicket(globex, gail, { subject: 'Gail’s login' });
    await anAgentMessage(joTicket, agent, 'We are on it.');
    await anAgentMessage(joTicket, agent, 'INTERNAL: customer is on the naughty list', {
      internal: true,
    });
    await anAgentMessage(samTicket, agent, 'INTERNAL: sam note', { internal: true });
    await anAgentMessage(globexTicket, globexAgent, 'INTERNAL: globex note', { internal: true });
    await withScope(db, { kind: 'system' }, async (trx) => {
      for (const [ticket, actor] of [
        [joTicket, { kind: 'agent', userId: agent.id, name: agent.name }],
        [samTicket, { kind: 'requester', requesterId: sam.id, name: 'Sam' }],
        [globexTicket, { kind: 'requester', requesterId: gail.id, name: 'Gail' }],
      ] as const) {
        await ticketEvents.insert(trx, {
          workspaceId: ticket.workspaceId,
          ticketId: ticket.id,
          actor,
          from: 'open',
          to: 'resolved',
          at: new Date('2026-11-25T10:00:00Z'),
        });
      }
      for (const [workspace, email] of [
        [acme, 'jo@example.com'],
        [globex, 'gail@example.com'],
      ] as const) {
        await loginTokens.insert(trx, {
          workspaceId: workspace.id,
          email,
          tokenHash: createHash('sha256').update(email).digest(),
          expiresAt: new Date('2026-11-25T11:00:00Z'),
        });
        await mailOutbox.enqueue(trx, {
          workspaceId: workspace.id,
          sealed: Buffer.from('sealed'),
          recipientDomain: 'example.com',
          queuedAt: new Date('2026-11-25T10:00:00Z'),
        });
      }
    });
  });

  function select(scope: Scope, table: string): Promise<Row[]> {
    return withScope(db, scope, (trx) => trx(table).select<Row[]>());
  }

  function ids(list: { id: string }[]): string[] {
    return list.map((r) => r.id).sort();
  }

  const requesterScope = (): Scope => ({
    kind: 'requester',
    workspaceId: acme.id,
    requesterId: jo.id,
  });

  /**
   * A scope tries to rewrite and remove a ticket's conversation and the ticket itself: it reads
   * at least `readable` of the messages (so there is something to tamper with), and every
   * attempt touches no row, leaving the database as it was.
   */
  async function assertCannotTamper(scope: Scope, ticket: TicketFixture, readable: number) {
    const conversation = () =>
      rows<{ id: string; body: string }>(
        'select id, body from messages where ticket_id = ? order by id',
        [ticket.id],
      );
    const before = await conversation();
    const { visible, ...touched } = await withScope(db, scope, async (trx) => {
      const messages = () => trx('messages').where({ ticket_id: ticket.id });
      return {
        visible: (await messages().select('id')).length,
        rewritten: await messages().update({ body: 'rewritten' }),
        marked: await messages().update({ has_files: true }),
        removedMessages: await messages().delete(),
        removedTickets: await trx('tickets').where({ id: ticket.id }).delete(),
      };
    });
    assert.ok(visible >= readable, `read ${visible} messages`);
    assert.deepEqual(touched, { rewritten: 0, marked: 0, removedMessages: 0, removedTickets: 0 });
    assert.deepEqual(await conversation(), before, 'the conversation is as it was');
    assert.equal((await rows('select id from tickets where id = ?', [ticket.id])).length, 1);
  }

  describe('the database role', () => {
    it('the app connects as a role that is neither superuser nor BYPASSRLS', async () => {
      const result = await db.raw<{
        rows: { rolname: string; rolsuper: boolean; rolbypassrls: boolean }[];
      }>('select rolname, rolsuper, rolbypassrls from pg_roles where rolname = current_user');
      const [role] = result.rows;
      assert.ok(role, 'the current role is known');
      assert.notEqual(role.rolname, 'postgres');
      assert.equal(role.rolsuper, false, 'not a superuser');
      assert.equal(role.rolbypassrls, false, 'no BYPASSRLS');
    });

    it('every tenant table has row-level security enabled and forced (the app role owns them)', async () => {
      const result = await db.raw<{
        rows: {
          relname: string;
          relrowsecurity: boolean;
          relforcerowsecurity: boolean;
          owner: string;
          me: string;
        }[];
      }>(
        `select c.relname, c.relrowsecurity, c.relforcerowsecurity, pg_get_userbyid(c.relowner) as owner,
                current_user as me
           from pg_class c
          where c.relnamespace = 'public'::regnamespace and c.relkind = 'r' and c.relname = any (?)`,
        [TENANT_TABLES],
      );
      assert.deepEqual(result.rows.map((r) => r.relname).sort(), [...TENANT_TABLES].sort());
      for (const row of result.rows) {
        assert.equal(row.relrowsecurity, true, `${row.relname}: row level security enabled`);
        assert.equal(
          row.relforcerowsecurity,
          true,
          `${row.relname}: forced, so the owner is bound too`,
        );
        assert.equal(row.owner, row.me, `${row.relname}: owned by the app role`);
      }
    });
  });

  describe('a requester scope', () => {
    it('a select without any filter returns only the requester’s own tickets', async () => {
      const seen = await select(requesterScope(), 'tickets');
      assert.deepEqual(ids(seen), [joTicket.id]);
    });

    it('the ticket list model with its requester filter forgotten still lists only the requester’s tickets', async () => {
      const listed = await withScope(db, requesterScope(), (trx) =>
        searchCustomerTickets(trx, { workspaceId: acme.id, filter: {}, search: {}, limit: 100 }),
      );
      assert.deepEqual(ids(listed), [joTicket.id]);
    });

    it('the ticket search with its requester filter forgotten finds only the requester’s tickets', async () => {
      const [own, others] = await withScope(db, requesterScope(), async (trx) => [
        await searchCustomerTickets(trx, {
          workspaceId: acme.id,
          filter: {},
          search: { words: { text: joTicket.subject } },
          limit: 100,
        }),
        await searchCustomerTickets(trx, {
          workspaceId: acme.id,
          filter: {},
          search: { words: { text: samTicket.subject, number: samTicket.number } },
          limit: 100,
        }),
      ]);
      assert.deepEqual(ids(own), [joTicket.id]);
      assert.deepEqual(ids(others), []);
    });

    it('cannot load someone else’s ticket by number', async () => {
      const found = await withScope(db, requesterScope(), (trx) =>
        tickets.findByNumber(trx, acme.id, samTicket.number),
      );
      assert.equal(found, undefined);
      const own = await withScope(db, requesterScope(), (trx) =>
        tickets.findByNumber(trx, acme.id, joTicket.number),
      );
      assert.equal(own?.id, joTicket.id);
    });

    it('sees no internal notes, even when the query asks for them', async () => {
      const all = await select(requesterScope(), 'messages');
      assert.ok(all.length >= 2, 'the requester’s public messages are visible');
      assert.ok(
        all.every((m) => m.internal === false),
        'no internal note',
      );
      assert.ok(
        all.every((m) => m.ticket_id === joTicket.id),
        'only messages of the requester’s tickets',
      );
      const { entries } = await withScope(db, requesterScope(), (trx) =>
        ticketThread.listThreadPage(trx, {
          workspaceId: acme.id,
          ticketId: joTicket.id,
          includeInternal: true,
          limit: 30,
        }),
      );
      const thread = entries.flatMap((e) => (e.kind === 'message' ? [e.message] : []));
      assert.ok(thread.length >= 2);
      assert.ok(!thread.some((m) => m.body.startsWith('INTERNAL')));
      const stored = await rows('select id from messages where ticket_id = ? and internal', [
        joTicket.id,
      ]);
      assert.equal(stored.length, 1, 'the internal note does exist');
    });

    it('sees only its own requester row, no agents, no sign-in tokens and no queued mail', async () => {
      assert.deepEqual(ids(await select(requesterScope(), 'requesters')), [jo.id]);
      assert.deepEqual(await select(requesterScope(), 'users'), []);
      assert.deepEqual(await select(requesterScope(), 'login_tokens'), []);
      assert.deepEqual(await select(requesterScope(), 'mail_outbox'), []);
    });

    it('cannot insert an internal note', async () => {
      await assert.rejects(
        withScope(db, requesterScope(), (trx) =>
          messages.insert(trx, {
            workspaceId: acme.id,
            ticketId: joTicket.id,
            author: { kind: 'agent', userId: agent.id, name: 'Forged agent' },
            body: 'forged internal note',
            internal: true,
            at: new Date(),
          }),
        ),
        /row-level security/,
      );
      assert.equal(
        (await rows("select id from messages where body = 'forged internal note'")).length,
        0,
      );
    });

    it('cannot write a message into someone else’s ticket', async () => {
      await assert.rejects(
        withScope(db, requesterScope(), (trx) =>
          messages.insert(trx, {
            workspaceId: acme.id,
            ticketId: samTicket.id,
            author: { kind: 'requester', requesterId: jo.id, name: 'Jo' },
            body: 'sneaky reply',
            internal: false,
            at: new Date(),
          }),
        ),
        /row-level security/,
      );
      assert.equal((await rows("select id from messages where body = 'sneaky reply'")).length, 0);
    });

    it('cannot change someone else’s ticket, nor hand its own to someone else', async () => {
      await withScope(db, requesterScope(), (trx) =>
        tickets.setStatus(trx, {
          workspaceId: acme.id,
          id: samTicket.id,
          status: 'closed',
          at: new Date(),
        }),
      );
      const [sams] = await rows<{ status: string }>('select status from tickets where id = ?', [
        samTicket.id,
      ]);
      assert.equal(sams!.status, 'open', 'the update found no row');
      await assert.rejects(
        withScope(db, requesterScope(), (trx) =>
          trx('tickets').where({ id: joTicket.id }).update({ requester_id: sam.id }),
        ),
        // Refused twice over: the owner is no column of a customer's (a trigger, first), and the
        // policy's check would refuse the row after it.
        /may change only/,
      );
    });

    it('sees the status changes of its own tickets only, and cannot forge, change or delete one', async () => {
      const seen = await select(requesterScope(), 'ticket_events');
      assert.deepEqual(
        seen.map((e) => e.ticket_id),
        [joTicket.id],
        'the agent’s change on Jo’s ticket, nothing of Sam’s',
      );
      const forge = (ticketId: string, actor: ticketEvents.EventActor) =>
        withScope(db, requesterScope(), (trx) =>
          ticketEvents.insert(trx, {
            workspaceId: acme.id,
            ticketId,
            actor,
            from: 'resolved',
            to: 'closed',
            at: new Date(),
          }),
        );
      await assert.rejects(
        forge(joTicket.id, { kind: 'agent', userId: agent.id, name: 'Forged agent' }),
        /row-level security/,
      );
      await assert.rejects(
        forge(samTicket.id, { kind: 'requester', requesterId: jo.id, name: 'Jo' }),
        /row-level security/,
      );
      await assert.rejects(
        forge(samTicket.id, { kind: 'requester', requesterId: sam.id, name: 'Sam' }),
        /row-level security/,
      );
      await forge(joTicket.id, { kind: 'requester', requesterId: jo.id, name: 'Jo' });
      const changed = await withScope(db, requesterScope(), async (trx) => [
        await trx('ticket_events').update({ actor_name: 'Rewritten' }),
        await trx('ticket_events').delete(),
      ]);
      assert.deepEqual(changed, [0, 0], 'history is not the customer’s to edit');
      assert.equal(
        (await rows('select id from ticket_events where to_status = ?', ['closed'])).length,
        1,
      );
    });

    it('can neither rewrite nor remove the messages it reads, nor remove its ticket', async () => {
      // Jo's opening message and the agent's public reply.
      await assertCannotTamper(requesterScope(), joTicket, 2);
    });

    it('marks its own message when it adds a file there, and keeps its own scope after', async () => {
      const [opening] = await rows<{ id: string }>(
        "select id from messages where ticket_id = ? and author_kind = 'requester'",
        [joTicket.id],
      );
      const seen = await withScope(db, requesterScope(), async (trx) => {
        await attachments.insert(trx, {
          workspaceId: acme.id,
          messageId: opening!.id,
          position: 0,
          name: 'photo.png',
          contentType: 'image/png',
          size: 3,
          storageKey: '11111111-1111-4111-8111-111111111111',
        });
        const setting = await trx.raw<{ rows: { scope: string }[] }>(
          "select current_setting('app.scope') as scope",
        );
        return {
          scope: setting.rows[0]?.scope,
          tickets: ids(await trx('tickets').select('id')),
          flagged: ids(await trx('messages').where({ has_files: true }).select('id')),
        };
      });
      assert.deepEqual(seen, {
        scope: 'requester',
        tickets: [joTicket.id],
        flagged: [opening!.id],
      });
    });

    it('changes on its ticket and its own record only what its actions change', async () => {
      const change = (table: string, id: string, values: Record<string, unknown>) =>
        withScope(db, requesterScope(), (trx) => trx(table).where({ id }).update(values));
      for (const values of [
        { subject: 'Renamed' },
        { number: 9999 },
        { created_at: new Date('2020-01-01T00:00:00Z') },
        { held_since: new Date() },
      ]) {
        await assert.rejects(change('tickets', joTicket.id, values), /may change only/);
      }
      await assert.rejects(
        change('requesters', jo.id, { email: 'x@example.com' }),
        /may change only/,
      );
      await assert.rejects(
        change('requesters', jo.id, { erased_at: new Date() }),
        /may change only/,
      );
      // What its actions do change still changes (solving, rating, its language).
      assert.equal(await change('tickets', joTicket.id, { status: 'resolved', rating: 5 }), 1);
      assert.equal(await change('requesters', jo.id, { language: 'fr' }), 1);
      const [ticket] = await rows<{ subject: string; status: string }>(
        'select subject, status from tickets where id = ?',
        [joTicket.id],
      );
      assert.deepEqual(ticket, { subject: 'Jo’s printer', status: 'resolved' });
      // An agent's scope is not narrowed so.
      const agentScope: Scope = { kind: 'agent', workspaceId: acme.id, userId: ANY_AGENT };
      assert.equal(
        await withScope(db, agentScope, (trx) =>
          trx('tickets').where({ id: joTicket.id }).update({ subject: 'Printer, renamed' }),
        ),
        1,
      );
    });

    it('cannot remove its own requester row', async () => {
      const lee = await aRequester(acme, 'lee@example.com', 'Lee');
      const scope: Scope = { kind: 'requester', workspaceId: acme.id, requesterId: lee.id };
      const [seen, removed] = await withScope(db, scope, async (trx) => [
        (await trx('requesters').select('id')).length,
        await trx('requesters').where({ id: lee.id }).delete(),
      ]);
      assert.deepEqual([seen, removed], [1, 0]);
      assert.equal((await rows('select id from requesters where id = ?', [lee.id])).length, 1);
    });

    it('cannot see another workspace’s rows even when its scope names that workspace’s requester', async () => {
      const crossed: Scope = {
        kind: 'requester',
        workspaceId: acme.id,
        requesterId: globexTicket.requesterId,
      };
      assert.deepEqual(await select(crossed, 'tickets'), []);
      assert.deepEqual(await select(crossed, 'messages'), []);
    });
  });

  describe('a visitor scope', () => {
    const visitorScope = (ticketIds: string[]): Scope => ({
      kind: 'visitor',
      workspaceId: acme.id,
      ticketIds,
    });

    it('sees only the tickets it holds and their public messages', async () => {
      const scope = visitorScope([samTicket.id]);
      assert.deepEqual(ids(await select(scope, 'tickets')), [samTicket.id]);
      const seen = await select(scope, 'messages');
      assert.ok(seen.length >= 1);
      assert.ok(seen.every((m) => m.ticket_id === samTicket.id && m.internal === false));
      assert.deepEqual(
        ids(await select(scope, 'requesters')),
        [sam.id],
        'only the ticket’s requester',
      );
      // Holding tickets of two requesters, it sees both of them and no one else.
      assert.deepEqual(
        ids(await select(visitorScope([samTicket.id, joTicket.id]), 'requesters')).sort(),
        [jo.id, sam.id].sort(),
      );
    });

    it('sees the status changes of the tickets it holds and can add one only to those, in their requester’s name', async () => {
      const scope = visitorScope([samTicket.id]);
      assert.deepEqual(
        (await select(scope, 'ticket_events')).map((e) => e.ticket_id),
        [samTicket.id],
      );
      const add = (ticketId: string, requesterId: string) =>
        withScope(db, scope, (trx) =>
          ticketEvents.insert(trx, {
            workspaceId: acme.id,
            ticketId,
            actor: { kind: 'requester', requesterId, name: 'Visitor' },
            from: 'resolved',
            to: 'open',
            at: new Date(),
          }),
        );
      await assert.rejects(add(joTicket.id, jo.id), /row-level security/);
      await assert.rejects(add(samTicket.id, jo.id), /row-level security/);
      await add(samTicket.id, sam.id);
    });

    it('with no tickets sees nothing', async () => {
      const scope = visitorScope([]);
      for (const table of TENANT_TABLES) assert.deepEqual(await select(scope, table), [], table);
    });

    it('cannot reach another workspace’s ticket by putting its id in the scope', async () => {
      const scope = visitorScope([globexTicket.id]);
      assert.deepEqual(await select(scope, 'tickets'), []);
      assert.deepEqual(await select(scope, 'messages'), []);
      assert.deepEqual(await select(scope, 'requesters'), []);
    });

    it('can neither rewrite nor remove the messages of a ticket it holds, nor remove the ticket', async () => {
      await assertCannotTamper(visitorScope([samTicket.id]), samTicket, 1);
    });

    it('cannot insert a message into a ticket it does not hold', async () => {
      await assert.rejects(
        withScope(db, visitorScope([samTicket.id]), (trx) =>
          messages.insert(trx, {
            workspaceId: acme.id,
            ticketId: joTicket.id,
            author: { kind: 'requester', requesterId: jo.id, name: 'Jo' },
            body: 'visitor sneaking in',
            internal: false,
            at: new Date(),
          }),
        ),
        /row-level security/,
      );
    });
  });

  describe('an agent scope', () => {
    const agentScope = (): Scope => ({ kind: 'agent', workspaceId: acme.id, userId: ANY_AGENT });

    it('sees all of its workspace’s tickets and notes, and none of another workspace’s', async () => {
      assert.deepEqual(ids(await select(agentScope(), 'tickets')), ids([joTicket, samTicket]));
      const seen = await select(agentScope(), 'messages');
      assert.ok(
        seen.some((m) => m.internal === true),
        'agents see internal notes',
      );
      assert.ok(seen.every((m) => m.workspace_id === acme.id));
      assert.ok(!seen.some((m) => m.ticket_id === globexTicket.id));
      assert.ok((await select(agentScope(), 'users')).every((u) => u.workspace_id === acme.id));
      assert.ok(
        (await select(agentScope(), 'requesters')).every((r) => r.workspace_id === acme.id),
      );
    });

    /** One page of an inbox search branch's function, called as `scope`, for `workspaceId`. */
    const inboxSearch =
      (fn: 'app_tickets_by_address' | 'app_tickets_by_subject') =>
      (scope: Scope, workspaceId: string, pattern: string) =>
        withScope(db, scope, (trx) =>
          trx.raw<{ rows: { id: string }[] }>(
            `select id from ${fn}(?::uuid, ?, null, null, null, 26)`,
            [workspaceId, pattern],
          ),
        ).then((result) => ids(result.rows));

    it('the inbox search by address finds its own workspace’s tickets only, however it is called', async () => {
      // The model passes the agent's own workspace; the function itself runs under the caller's
      // row-level security, so naming another workspace, or a requester's scope, finds nothing.
      const byAddress = inboxSearch('app_tickets_by_address');
      assert.deepEqual(
        await byAddress(agentScope(), acme.id, '%example.com%'),
        ids([joTicket, samTicket]),
      );
      assert.deepEqual(await byAddress(agentScope(), globex.id, '%gail@%'), []);
      assert.deepEqual(await byAddress(requesterScope(), acme.id, '%sam@%'), []);
      assert.deepEqual(await byAddress(requesterScope(), acme.id, '%example.com%'), [joTicket.id]);
      const listed = await withScope(db, agentScope(), (trx) =>
        ticketSearch.listPage(trx, {
          workspaceId: globex.id,
          search: { query: { text: 'gail@' } },
          limit: 26,
        }),
      );
      assert.deepEqual(listed, []);
    });

    it('the inbox search by subject finds its own workspace’s tickets only, however it is called', async () => {
      // As the address search: a function under the caller's own row-level security.
      const bySubject = inboxSearch('app_tickets_by_subject');
      assert.deepEqual(await bySubject(agentScope(), acme.id, '%’s%'), ids([joTicket, samTicket]));
      assert.deepEqual(await bySubject(agentScope(), globex.id, '%login%'), []);
      assert.deepEqual(await bySubject(requesterScope(), acme.id, '%invoice%'), []);
      assert.deepEqual(await bySubject(requesterScope(), acme.id, '%’s%'), [joTicket.id]);
      const visitor: Scope = { kind: 'visitor', workspaceId: acme.id, ticketIds: [samTicket.id] };
      assert.deepEqual(await bySubject(visitor, acme.id, '%’s%'), [samTicket.id]);
      const listed = await withScope(db, agentScope(), (trx) =>
        ticketSearch.listPage(trx, {
          workspaceId: globex.id,
          search: { query: { text: 'login' } },
          limit: 26,
        }),
      );
      assert.deepEqual(listed, []);
    });

    it('may still rewrite and remove its workspace’s messages (erasure rewrites them)', async () => {
      const scope: Scope = { kind: 'agent', workspaceId: acme.id, userId: ANY_AGENT };
      const changed = await withScope(db, scope, async (trx) => ({
        visible: (await trx('messages').where({ ticket_id: joTicket.id }).select('id')).length,
        rewritten: await trx('messages')
          .where({ ticket_id: joTicket.id })
          .update({ body: 'rewritten' }),
        removed: await trx('messages').where({ ticket_id: joTicket.id }).delete(),
      }));
      assert.ok(changed.visible >= 3, `saw ${changed.visible} messages`);
      assert.deepEqual(changed, {
        visible: changed.visible,
        rewritten: changed.visible,
        removed: changed.visible,
      });
    });

    it('cannot write into another workspace', async () => {
      await withScope(db, agentScope(), (trx) =>
        tickets.setStatus(trx, {
          workspaceId: globex.id,
          id: globexTicket.id,
          status: 'closed',
          at: new Date(),
        }),
      );
      const [theirs] = await rows<{ status: string }>('select status from tickets where id = ?', [
        globexTicket.id,
      ]);
      assert.equal(theirs!.status, 'open');
      await assert.rejects(
        withScope(db, agentScope(), (trx) =>
          messages.insert(trx, {
            workspaceId: globex.id,
            ticketId: globexTicket.id,
            author: { kind: 'agent', userId: agent.id, name: agent.name },
            body: 'cross-workspace note',
            internal: true,
            at: new Date(),
          }),
        ),
        /row-level security/,
      );
    });

    it('sees the status changes of its own workspace only', async () => {
      const seen = await select(agentScope(), 'ticket_events');
      assert.deepEqual(
        ids(seen.map((e) => ({ id: String(e.ticket_id) }))),
        ids([joTicket, samTicket]),
      );
    });

    it('cannot read queued mail (it may hold sign-in links)', async () => {
      assert.deepEqual(await select(agentScope(), 'mail_outbox'), []);
    });
  });

  describe('a sign-in scope', () => {
    it('sees only its own workspace’s sign-in tokens and no tickets or messages', async () => {
      const scope: Scope = { kind: 'signin', workspaceId: acme.id };
      const tokens = await select(scope, 'login_tokens');
      assert.deepEqual(
        tokens.map((r) => r.email),
        ['jo@example.com'],
      );
      assert.deepEqual(await select(scope, 'tickets'), []);
      assert.deepEqual(await select(scope, 'messages'), []);
    });
  });

  describe('reply addresses (only token hashes)', () => {
    const hash = (seed: string) => createHash('sha256').update(seed).digest();
    const issue = (scope: Scope, ticket: TicketFixture, requesterId: string, seed: string) =>
      withScope(db, scope, (trx) =>
        replyAddresses.insert(trx, {
          workspaceId: ticket.workspaceId,
          ticketId: ticket.id,
          requesterId,
          tokenHash: hash(seed),
          at: new Date('2026-11-25T10:00:00Z'),
        }),
      );

    it('a requester may add one for its own ticket only, and read none back', async () => {
      await issue(requesterScope(), joTicket, jo.id, 'jo');
      await assert.rejects(issue(requesterScope(), samTicket, sam.id, 'sam'), /row-level security/);
      assert.deepEqual(await select(requesterScope(), 'reply_addresses'), []);
    });

    it('a visitor may add one for a ticket it holds only', async () => {
      const visitor: Scope = { kind: 'visitor', workspaceId: acme.id, ticketIds: [samTicket.id] };
      await issue(visitor, samTicket, sam.id, 'sam');
      await assert.rejects(issue(visitor, joTicket, jo.id, 'jo'), /row-level security/);
    });

    it('an agent sees its own workspace’s only; the sign-in scope none; the system scope finds any by hash', async () => {
      await issue({ kind: 'system' }, joTicket, jo.id, 'jo');
      await issue({ kind: 'system' }, globexTicket, globexTicket.requesterId, 'gail');
      const agentScope: Scope = { kind: 'agent', workspaceId: acme.id, userId: agent.id };
      assert.equal((await select(agentScope, 'reply_addresses')).length, 1);
      assert.deepEqual(
        await select({ kind: 'signin', workspaceId: acme.id }, 'reply_addresses'),
        [],
      );
      await assert.rejects(
        issue({ kind: 'signin', workspaceId: acme.id }, joTicket, jo.id, 'other'),
        /row-level security/,
      );
      const found = await withScope(db, { kind: 'system' }, (trx) =>
        replyAddresses.findByHash(trx, hash('gail')),
      );
      assert.equal(found?.workspaceId, globex.id);
    });
  });

  describe('no scope at all', () => {
    it('a bare transaction without a scope sees no rows in any tenant table', async () => {
      for (const table of TENANT_TABLES) {
        const seen = await db.transaction((trx) => trx(table).select<Row[]>());
        assert.deepEqual(seen, [], table);
      }
    });

    it('a plain query on the pool sees no rows, even right after a system-scoped transaction', async () => {
      const all = await select({ kind: 'system' }, 'tickets');
      assert.equal(all.length, 3, 'the system scope sees everything');
      for (const table of TENANT_TABLES) {
        assert.deepEqual(await db(table).select(), [], table);
      }
    });

    it('a scope ends with its transaction: nothing leaks to the next query on the same connection', async () => {
      const single = createDb(testDatabase().url, 1);
      try {
        const scoped = await withScope(
          single,
          { kind: 'agent', workspaceId: acme.id, userId: ANY_AGENT },
          (trx) => trx('tickets').select<Row[]>(),
        );
        assert.equal(scoped.length, 2);
        const [pid1] = (
          await single.raw<{ rows: { pid: number }[] }>('select pg_backend_pid() as pid')
        ).rows;
        assert.deepEqual(await single('tickets').select(), []);
        assert.deepEqual(await single.transaction((trx) => trx('messages').select()), []);
        const [pid2] = (
          await single.raw<{ rows: { pid: number }[] }>('select pg_backend_pid() as pid')
        ).rows;
        assert.equal(pid1!.pid, pid2!.pid, 'one and the same connection throughout');
      } finally {
        await single.destroy();
      }
    });

    it('cannot insert tenant rows', async () => {
      await assert.rejects(
        db.transaction((trx) =>
          trx('requesters').insert({ workspace_id: acme.id, email: 'ghost@example.com' }),
        ),
        /row-level security/,
      );
      await assert.rejects(
        db('mail_outbox').insert({ workspace_id: acme.id, sealed: Buffer.from('x') }),
        /row-level security/,
      );
    });
  });

  describe('a held ticket (address not yet confirmed)', () => {
    let held: TicketFixture;

    beforeEach(async () => {
      held = await aHeldTicket(acme, { email: 'jo@example.com' });
      await withScope(db, { kind: 'system' }, (trx) =>
        ticketConfirmations.insert(trx, {
          workspaceId: acme.id,
          ticketId: held.id,
          tokenHash: createHash('sha256').update('held').digest(),
          expiresAt: new Date('2026-11-25T11:00:00Z'),
        }),
      );
    });

    const agentScope = (): Scope => ({ kind: 'agent', workspaceId: acme.id, userId: agent.id });

    it('an agent scope sees neither the ticket nor can change it, with every filter forgotten', async () => {
      assert.ok(!ids(await select(agentScope(), 'tickets')).includes(held.id));
      const found = await withScope(db, agentScope(), (trx) =>
        tickets.findByNumber(trx, acme.id, held.number),
      );
      assert.equal(found, undefined);
      const changed = await withScope(db, agentScope(), (trx) =>
        trx('tickets').where({ id: held.id }).update({ status: 'closed' }),
      );
      assert.equal(changed, 0);
      assert.deepEqual(await select(agentScope(), 'ticket_confirmations'), []);
    });

    it('the address’s requester scope does not see it, in a select or its list', async () => {
      assert.deepEqual(ids(await select(requesterScope(), 'tickets')), [joTicket.id]);
      const messagesSeen = await select(requesterScope(), 'messages');
      assert.ok(messagesSeen.every((m) => m.ticket_id !== held.id));
      assert.deepEqual(await select(requesterScope(), 'ticket_confirmations'), []);
    });

    it('the visitor scope holding it sees it and its link; the sign-in scope sees links of its own workspace only', async () => {
      const visitor: Scope = { kind: 'visitor', workspaceId: acme.id, ticketIds: [held.id] };
      assert.deepEqual(ids(await select(visitor, 'tickets')), [held.id]);
      assert.equal((await select(visitor, 'ticket_confirmations')).length, 1);
      const otherVisitor: Scope = {
        kind: 'visitor',
        workspaceId: acme.id,
        ticketIds: [joTicket.id],
      };
      assert.deepEqual(await select(otherVisitor, 'ticket_confirmations'), []);
      assert.equal(
        (await select({ kind: 'signin', workspaceId: acme.id }, 'ticket_confirmations')).length,
        1,
      );
      assert.deepEqual(
        await select({ kind: 'signin', workspaceId: globex.id }, 'ticket_confirmations'),
        [],
      );
      assert.deepEqual(await select({ kind: 'signin', workspaceId: acme.id }, 'tickets'), []);
    });
  });
});

/**
 * Erasure (#10 point 7) lets a current admin reach two things agents could not: the workspace's
 * sign-in tokens (to delete an erased address's) and the audit trail's labels (to redact it).
 */
describe('row-level security for erasure', () => {
  let db: Db;
  let acme: Workspace;
  let globex: Workspace;
  let admin: User;
  let agent: User;

  const placeholder = 'erased-00000000-0000-4000-8000-000000000001@invalid';

  beforeEach(async () => {
    db = testDatabase().db;
    acme = await aWorkspace('acme');
    globex = await aWorkspace('globex');
    admin = await anAgent(acme, { email: 'admin@acme.test', role: 'admin' });
    agent = await anAgent(acme, { email: 'agent@acme.test', role: 'agent' });
    await withScope(db, { kind: 'system' }, async (trx) => {
      for (const workspace of [acme, globex]) {
        await loginTokens.insert(trx, {
          workspaceId: workspace.id,
          email: 'jo@example.com',
          tokenHash: createHash('sha256').update(workspace.id).digest(),
          expiresAt: new Date('2026-11-25T11:00:00Z'),
        });
        await auditEvents.insert(trx, {
          workspaceId: workspace.id,
          occurredAt: new Date('2026-11-25T10:00:00Z'),
          action: 'portal.signin_link_requested',
          actor: { kind: 'visitor', label: 'jo@example.com' },
          ip: '192.0.2.1',
        });
      }
    });
  });

  const scopeOf = (user: User): Scope => ({
    kind: 'agent',
    workspaceId: acme.id,
    userId: user.id,
  });

  it('an admin sees and deletes only its own workspace’s sign-in tokens; an agent neither', async () => {
    assert.deepEqual(
      await withScope(db, scopeOf(agent), (trx) => trx('login_tokens').select()),
      [],
    );
    assert.equal(
      await withScope(db, scopeOf(agent), (trx) =>
        loginTokens.deleteForEmail(trx, acme.id, 'jo@example.com'),
      ),
      0,
    );
    assert.equal(
      await withScope(db, scopeOf(admin), (trx) =>
        loginTokens.deleteForEmail(trx, globex.id, 'jo@example.com'),
      ),
      0,
      'not another workspace’s',
    );
    assert.equal(
      await withScope(db, scopeOf(admin), (trx) =>
        loginTokens.deleteForEmail(trx, acme.id, 'jo@example.com'),
      ),
      1,
    );
    assert.deepEqual(
      (await rows<{ workspace_id: string }>('select workspace_id from login_tokens')).map(
        (r) => r.workspace_id,
      ),
      [globex.id],
    );
  });

  it('an admin may only redact the audit trail: an address for a placeholder, an IP for none', async () => {
    const redact = (user: User, changes: Record<string, unknown>) =>
      withScope(db, scopeOf(user), (trx) =>
        trx('audit_events').where({ workspace_id: acme.id }).update(changes),
      );
    assert.equal(await redact(agent, { actor_label: placeholder }), 0, 'an agent: no row');
    for (const forged of [
      { actor_label: 'someone-else@example.com' },
      { action: 'user.created' },
      { occurred_at: new Date('2020-01-01T00:00:00Z') },
      { ip: '198.51.100.7' },
      { details: JSON.stringify({ forged: true }) },
    ]) {
      await assert.rejects(redact(admin, forged), /can only be redacted/, JSON.stringify(forged));
    }
    assert.equal(await redact(admin, { actor_label: placeholder, ip: null }), 1);
    assert.deepEqual(
      await rows('select workspace_id, actor_label, ip from audit_events order by actor_label'),
      [
        { workspace_id: acme.id, actor_label: placeholder, ip: null },
        { workspace_id: globex.id, actor_label: 'jo@example.com', ip: '192.0.2.1' },
      ],
    );
  });
});
