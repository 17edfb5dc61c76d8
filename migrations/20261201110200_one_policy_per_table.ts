import type { Knex } from 'knex';

/**
 * Tickets and messages each get one policy holding what their four did (system, agent, requester
 * and visitor scopes), in an order of our choosing.
 *
 * PostgreSQL joins a table's permissive policies with OR, in an order of its own (the reverse of
 * their names: visitor, system, requester, agent), and tests them on every row a scan reads. An
 * agent's rows, by far the most read (inbox, searches, the CSV export), went through every other
 * scope's test before their own: an email search reading a requester's 1,000 tickets spent 1.2 of
 * its 1.9 ms there. In one policy the order is the written one:
 * - the system scope first: a test of the scope alone, which also tells the planner at once that
 *   the policy cannot be answered from an index (it tried to, arm by arm, for every query);
 * - then the agent's, the requester's and the visitor's.
 *
 * Who sees which rows does not change: permissive policies are joined with OR, and this is that
 * OR, written out. The merged policy's comment keeps the four it replaced (and their comments),
 * which `down` creates again.
 */
const MERGED: Record<string, string[]> = {
  tickets: ['tickets_system', 'tickets_agent', 'tickets_requester', 'tickets_visitor'],
  messages: ['messages_system', 'messages_agent', 'messages_requester', 'messages_visitor'],
};

interface Policy {
  name: string;
  cmd: string;
  permissive: string;
  roles: string;
  qual: string | null;
  with_check: string | null;
  comment: string | null;
}

async function policiesOf(knex: Knex, table: string): Promise<Policy[]> {
  const result = await knex.raw<{ rows: Policy[] }>(
    `select p.policyname as name, p.cmd, p.permissive, p.roles::text as roles, p.qual,
            p.with_check, obj_description(pol.oid, 'pg_policy') as comment
       from pg_policies p
       join pg_policy pol on pol.polname = p.policyname and pol.polrelid = ?::regclass
      where p.schemaname = current_schema() and p.tablename = ?`,
    [table, table],
  );
  return result.rows;
}

const mergedName = (table: string) => `${table}_scoped`;
const MERGED_FROM = 'merged from: ';

export async function up(knex: Knex): Promise<void> {
  for (const [table, order] of Object.entries(MERGED)) {
    const existing = await policiesOf(knex, table);
    const parts = order.map((name) => {
      const policy = existing.find((p) => p.name === name);
      // Only policies for every command and role, checked by their USING alone, merge this way.
      if (
        !policy ||
        policy.cmd !== 'ALL' ||
        policy.permissive !== 'PERMISSIVE' ||
        policy.roles !== '{public}' ||
        !policy.qual ||
        policy.with_check
      ) {
        throw new Error(`policy ${name} on ${table} is not one this migration can merge`);
      }
      return policy;
    });
    for (const policy of parts) await knex.raw(`drop policy ${policy.name} on ${table}`);
    const using = parts.map((policy) => `(${policy.qual})`).join('\n or ');
    await knex.raw(`create policy ${mergedName(table)} on ${table} using (${using})`);
    const kept = JSON.stringify(parts.map(({ name, qual, comment }) => ({ name, qual, comment })));
    await knex.raw(
      `comment on policy ${mergedName(table)} on ${table} is ${quoted(MERGED_FROM + kept)}`,
    );
  }
}

export async function down(knex: Knex): Promise<void> {
  for (const table of Object.keys(MERGED)) {
    const [merged] = (await policiesOf(knex, table)).filter((p) => p.name === mergedName(table));
    if (!merged?.comment?.startsWith(MERGED_FROM)) continue;
    const parts = JSON.parse(merged.comment.slice(MERGED_FROM.length)) as Pick<
      Policy,
      'name' | 'qual' | 'comment'
    >[];
    await knex.raw(`drop policy ${mergedName(table)} on ${table}`);
    for (const policy of parts) {
      await knex.raw(`create policy ${policy.name} on ${table} using (${policy.qual})`);
      if (policy.comment) {
        await knex.raw(`comment on policy ${policy.name} on ${table} is ${quoted(policy.comment)}`);
      }
    }
  }
}

/** A string literal (the comment is our own text, but it holds quotes). */
function quoted(text: string): string {
  return `'${text.replace(/'/g, "''")}'`;
}
