import type { Db, StandalonePool, Trx } from '../db/knex';
import { PREPARED } from '../db/deferred-statements';
import { queryRows } from '../db/statements';
import type { SessionTable } from './sessions';

export interface Workspace {
  id: string;
  slug: string;
  name: string;
  portalEnabled: boolean;
  primaryColor: string;
  logoType: string | null;
  logoVersion: number;
  /** Where the accessibility statement sends people for help in another way; null when unset. */
  contactEmail: string | null;
  updatedAt: Date;
  /** Portal sessions signed in before this instant are over: the portal was switched off then. */
  portalSessionsAfter: Date | null;
  /** Tickets opened without signing in wait until their address is confirmed by a mailed link. */
  confirmAnonymousEmail: boolean;
  /** The portal's language for a visitor whose browser asks for none we have. */
  defaultLanguage: string;
  /** The IANA zone every time is shown in, unless a signed-in customer chose their own. */
  timeZone: string;
}

export interface WorkspaceLogo {
  content: Buffer;
  type: string;
  version: number;
}

interface WorkspaceRow {
  id: string;
  slug: string;
  name: string;
  portal_enabled: boolean;
  primary_color: string;
  logo_type: string | null;
  logo_version: number;
  contact_email: string | null;
  updated_at: Date;
  portal_sessions_after: Date | null;
  confirm_anonymous_email: boolean;
  default_language: string;
  time_zone: string;
}

// The logo's bytes are read only where they are served, never with every request.
const columns = [
  'id',
  'slug',
  'name',
  'portal_enabled',
  'primary_color',
  'logo_type',
  'logo_version',
  'contact_email',
  'updated_at',
  'portal_sessions_after',
  'confirm_anonymous_email',
  'default_language',
  'time_zone',
];

function toWorkspace(row: WorkspaceRow): Workspace {
  return {
    id: row.id,
    slug: row.slug,
    name: row.name,
    portalEnabled: row.portal_enabled,
    primaryColor: row.primary_color,
    logoType: row.logo_type,
    logoVersion: row.logo_version,
    contactEmail: row.contact_email,
    updatedAt: row.updated_at,
    portalSessionsAfter: row.portal_sessions_after,
    confirmAnonymousEmail: row.confirm_anonymous_email,
    defaultLanguage: row.default_language,
    timeZone: row.time_zone,
  };
}

/** Takes the database itself too: the workspaces table holds no tenant rows (see the tenant middleware). */
export async function findBySlug(trx: Db, slug: string): Promise<Workspace | undefined> {
  const row = await trx('workspaces')
    .select<WorkspaceRow[]>(columns)
    .where({ slug })
    .options({ name: PREPARED })
    .first<WorkspaceRow | undefined>();
  return row ? toWorkspace(row) : undefined;
}

const bySlugAlone = {
  name: 'workspace_by_slug',
  text: `select ${columns.join(', ')} from workspaces where slug = $1`,
};

/**
 * The workspace of a host, for a request with no session: a statement prepared once per
 * connection of the plain node-postgres pool, the one that already serves the statements that
 * stand outside any page transaction (sessions, rate limits). Through knex (building the same
 * SQL every time, a connection through its pool) one lookup took 90–125 µs of CPU on the bench's
 * machine, here 50–70 µs: about 5% of an anonymous page, the sign-in page and its POST.
 */
export async function findBySlugAlone(
  pool: StandalonePool,
  slug: string,
): Promise<Workspace | undefined> {
  const { rows } = await pool.query<WorkspaceRow>({ ...bySlugAlone, values: [slug] });
  return rows[0] ? toWorkspace(rows[0]) : undefined;
}

export async function findById(trx: Db, id: string): Promise<Workspace | undefined> {
  const row = await trx('workspaces')
    .select<WorkspaceRow[]>(columns)
    .where({ id })
    .first<WorkspaceRow | undefined>();
  return row ? toWorkspace(row) : undefined;
}

const withSession = (table: SessionTable) =>
  `select ${columns.map((c) => `w.${c}`).join(', ')},
          (select s.sess from ${table} s where s.sid = $1 and s.expire >= to_timestamp($2)) as session
     from workspaces w
    where w.slug = $3`;
const withSessionSql: Record<SessionTable, string> = {
  portal_sessions: withSession('portal_sessions'),
  admin_sessions: withSession('admin_sessions'),
};

/**
 * The workspace of a host and the live row of the session the request's cookie names, read by
 * the statement that opens the page transaction: one round trip for both (the session row is
 * what connect-pg-simple's own read would return: `sess` of a row not yet expired by the real
 * clock). The scope the session claims is set afterwards, and only if it names this workspace
 * (middleware/tenant.ts). An unknown slug returns undefined.
 */
export async function findWithSession(
  trx: Trx,
  slug: string,
  session: { table: SessionTable; sid: string; now: number },
): Promise<{ workspace: Workspace; session: unknown } | undefined> {
  const [row] = await queryRows<WorkspaceRow & { session: unknown }>(
    trx,
    withSessionSql[session.table],
    [session.sid, Math.ceil(session.now / 1000), slug],
    { prepared: true },
  );
  return row ? { workspace: toWorkspace(row), session: row.session } : undefined;
}

export async function isEmpty(trx: Trx): Promise<boolean> {
  const row = await trx('workspaces').select('id').first<WorkspaceRow | undefined>();
  return row === undefined;
}

export async function insert(
  trx: Trx,
  input: { slug: string; name: string; portalEnabled: boolean },
): Promise<Workspace> {
  const [row] = await trx('workspaces')
    .insert({ slug: input.slug, name: input.name, portal_enabled: input.portalEnabled })
    .returning<WorkspaceRow[]>(columns);
  return toWorkspace(row as WorkspaceRow);
}

export async function update(
  trx: Trx,
  id: string,
  changes: Partial<{
    name: string;
    portalEnabled: boolean;
    primaryColor: string;
    contactEmail: string | null;
    portalSessionsAfter: Date;
    confirmAnonymousEmail: boolean;
    defaultLanguage: string;
    timeZone: string;
  }>,
): Promise<Workspace | undefined> {
  const [row] = await trx('workspaces')
    .where({ id })
    .update({
      name: changes.name,
      portal_enabled: changes.portalEnabled,
      primary_color: changes.primaryColor,
      contact_email: changes.contactEmail,
      portal_sessions_after: changes.portalSessionsAfter,
      confirm_anonymous_email: changes.confirmAnonymousEmail,
      default_language: changes.defaultLanguage,
      time_zone: changes.timeZone,
      updated_at: trx.fn.now(),
    })
    .returning<WorkspaceRow[]>(columns);
  return row ? toWorkspace(row) : undefined;
}

/**
 * The logo as uploaded and, beside it, the resized copy that is served (see services/logos.ts).
 * Without `resized` (only tests and legacy rows lack one) the original is served.
 */
export async function setLogo(
  trx: Trx,
  id: string,
  logo: { content: Buffer; type: string; resized?: { content: Buffer; type: string } } | null,
): Promise<void> {
  await trx('workspaces')
    .where({ id })
    .update({
      logo: logo?.content ?? null,
      logo_type: logo?.type ?? null,
      logo_resized: logo?.resized?.content ?? null,
      logo_resized_type: logo?.resized?.type ?? null,
      logo_version: trx.raw('logo_version + 1'),
      updated_at: trx.fn.now(),
    });
}

interface LogoRow {
  content: Buffer | null;
  type: string | null;
  logo_version: number;
}

function toLogo(row: LogoRow | undefined): WorkspaceLogo | undefined {
  if (!row?.content || !row.type) return undefined;
  return { content: row.content, type: row.type, version: row.logo_version };
}

/**
 * The logo the portal and the agent app's branding page show: the resized copy, or the upload
 * itself where there is none. The upload is never served on its own: nobody needs its weight.
 */
export async function findServedLogo(trx: Trx, id: string): Promise<WorkspaceLogo | undefined> {
  const row = await trx('workspaces')
    .select(
      trx.raw('coalesce(logo_resized, logo) as content'),
      trx.raw('case when logo_resized is null then logo_type else logo_resized_type end as type'),
      'logo_version',
    )
    .where({ id })
    .first<LogoRow | undefined>();
  return toLogo(row);
}

/** What a mail needs to look like the workspace; the logo only as its small resized copy. */
export interface MailBrand {
  name: string;
  primaryColor: string;
  logo: { content: Buffer; type: string } | null;
}

export async function findMailBrand(trx: Trx, id: string): Promise<MailBrand | undefined> {
  const row = await trx('workspaces')
    .select('name', 'primary_color', 'logo_resized', 'logo_resized_type')
    .where({ id })
    .first<
      | {
          name: string;
          primary_color: string;
          logo_resized: Buffer | null;
          logo_resized_type: string | null;
        }
      | undefined
    >();
  if (!row) return undefined;
  return {
    name: row.name,
    primaryColor: row.primary_color,
    logo:
      row.logo_resized && row.logo_resized_type
        ? { content: row.logo_resized, type: row.logo_resized_type }
        : null,
  };
}

/** Takes the next ticket number; the row lock serialises concurrent tickets in one workspace. */
export async function nextTicketNumber(trx: Trx, id: string): Promise<number> {
  const [row] = await trx('workspaces')
    .where({ id })
    .increment('ticket_seq', 1)
    .returning<{ ticket_seq: number }[]>('ticket_seq');
  if (!row) throw new Error(`workspace ${id} vanished`);
  return row.ticket_seq;
}
