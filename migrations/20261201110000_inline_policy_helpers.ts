import type { Knex } from 'knex';

/**
 * Row-level security that is cheaper to plan: every policy now spells out the settings it reads
 * instead of calling the helper functions (`app_scope()`, `app_scoped_workspace_id('agent')`, …).
 *
 * PostgreSQL inlines a SQL function call each time it plans a statement, afresh: it looks the
 * function up, checks it and substitutes its body, and a scoped helper calls two more. A search
 * in the agent inbox reads tickets and requesters twice over, and every permissive policy of both
 * tables is planned each time, so its planning went through about sixty inlinings: 1.3 ms, where
 * the same statement planned without row-level security takes 0.45 ms. Spelled out, it plans in
 * 0.9 ms, and PostgreSQL's share of a search's CPU falls by almost a third (measured on the bench
 * data, 1,000,000 tickets).
 *
 * Who sees which rows does not change: each call is replaced by the function's own body, which
 * is exactly what the planner did with it (test/security/policy-helpers.test.ts compares them in
 * every scope). The functions stay, for queries written by hand. Each changed policy's comment
 * keeps what it read before, with the calls, and `down` puts that back.
 */
const bodies: [call: RegExp, body: (kind: string) => string][] = [
  // Scoped helpers first: their bodies call the plain ones, replaced next.
  [
    /app_scoped_workspace_id\('(\w+)'::text\)/g,
    (kind) => `case when app_scope() = '${kind}' then app_workspace_id() end`,
  ],
  [
    /app_scoped_requester_id\(\)/g,
    () => `case when app_scope() = 'requester' then app_requester_id() end`,
  ],
  [
    /app_scoped_ticket_ids\(\)/g,
    () => `case when app_scope() = 'visitor' then app_ticket_ids() end`,
  ],
  [/app_scope\(\)/g, () => `coalesce(current_setting('app.scope', true), '')`],
  [/app_workspace_id\(\)/g, () => `nullif(current_setting('app.workspace_id', true), '')::uuid`],
  [/app_requester_id\(\)/g, () => `nullif(current_setting('app.requester_id', true), '')::uuid`],
  [
    /app_ticket_ids\(\)/g,
    () => `coalesce(nullif(current_setting('app.ticket_ids', true), '')::uuid[], '{}')`,
  ],
  [/app_user_id\(\)/g, () => `nullif(current_setting('app.user_id', true), '')::uuid`],
];

export function spelledOut(expression: string): string {
  let text = expression;
  for (const [call, body] of bodies) {
    text = text.replace(call, (_match, kind: string) => `(${body(kind)})`);
  }
  return text;
}

interface Policy {
  tablename: string;
  policyname: string;
  qual: string | null;
  with_check: string | null;
  comment: string | null;
}

async function policies(knex: Knex): Promise<Policy[]> {
  const result = await knex.raw<{ rows: Policy[] }>(`
    select p.tablename, p.policyname, p.qual, p.with_check,
           obj_description(pol.oid, 'pg_policy') as comment
      from pg_policies p
      join pg_policy pol on pol.polname = p.policyname
                        and pol.polrelid = format('%I.%I', p.schemaname, p.tablename)::regclass
     where p.schemaname = current_schema()
     order by p.tablename, p.policyname`);
  return result.rows;
}

function clauses(using: string | null, check: string | null): string {
  return [using && `using (${using})`, check && `with check (${check})`].filter(Boolean).join(' ');
}

/** The comment on a policy this migration changed: its definitions before it, with the calls. */
const READABLE = 'before inlining: ';

export async function up(knex: Knex): Promise<void> {
  for (const policy of await policies(knex)) {
    const using = policy.qual && spelledOut(policy.qual);
    const check = policy.with_check && spelledOut(policy.with_check);
    if (using === policy.qual && check === policy.with_check) continue;
    const on = `${policy.policyname} on ${policy.tablename}`;
    await knex.raw(`alter policy ${on} ${clauses(using, check)}`);
    const readable = JSON.stringify({ using: policy.qual, check: policy.with_check });
    await knex.raw(`comment on policy ${on} is ${quoted(READABLE + readable)}`);
  }
}

export async function down(knex: Knex): Promise<void> {
  for (const policy of await policies(knex)) {
    if (!policy.comment?.startsWith(READABLE)) continue;
    const readable = JSON.parse(policy.comment.slice(READABLE.length)) as {
      using: string | null;
      check: string | null;
    };
    const on = `${policy.policyname} on ${policy.tablename}`;
    await knex.raw(`alter policy ${on} ${clauses(readable.using, readable.check)}`);
    await knex.raw(`comment on policy ${on} is null`);
  }
}

/** A string literal (the comment is our own text, but it holds quotes). */
function quoted(text: string): string {
  return `'${text.replace(/'/g, "''")}'`;
}
