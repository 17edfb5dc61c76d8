import type { Trx } from '../db/knex';

export interface Workspace {
  id: string;
  slug: string;
  name: string;
  portalEnabled: boolean;
  primaryColor: string;
  logoType: string | null;
  logoVersion: number;
  updatedAt: Date;
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
  updated_at: Date;
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
  'updated_at',
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
    updatedAt: row.updated_at,
  };
}

export async function findBySlug(trx: Trx, slug: string): Promise<Workspace | undefined> {
  const row = await trx('workspaces')
    .select<WorkspaceRow[]>(columns)
    .where({ slug })
    .first<WorkspaceRow | undefined>();
  return row ? toWorkspace(row) : undefined;
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
  changes: Partial<{ name: string; portalEnabled: boolean; primaryColor: string }>,
): Promise<Workspace | undefined> {
  const [row] = await trx('workspaces')
    .where({ id })
    .update({
      name: changes.name,
      portal_enabled: changes.portalEnabled,
      primary_color: changes.primaryColor,
      updated_at: trx.fn.now(),
    })
    .returning<WorkspaceRow[]>(columns);
  return row ? toWorkspace(row) : undefined;
}

export async function setLogo(
  trx: Trx,
  id: string,
  logo: { content: Buffer; type: string } | null,
): Promise<void> {
  await trx('workspaces')
    .where({ id })
    .update({
      logo: logo?.content ?? null,
      logo_type: logo?.type ?? null,
      logo_version: trx.raw('logo_version + 1'),
      updated_at: trx.fn.now(),
    });
}

export async function findLogo(trx: Trx, id: string): Promise<WorkspaceLogo | undefined> {
  const row = await trx('workspaces')
    .select('logo', 'logo_type', 'logo_version')
    .where({ id })
    .first<{ logo: Buffer | null; logo_type: string | null; logo_version: number } | undefined>();
  if (!row?.logo || !row.logo_type) return undefined;
  return { content: row.logo, type: row.logo_type, version: row.logo_version };
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
