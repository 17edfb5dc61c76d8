import type { Trx } from '../db/knex';

export interface Requester {
  id: string;
  workspaceId: string;
  email: string;
  name: string;
}

interface RequesterRow {
  id: string;
  workspace_id: string;
  email: string;
  name: string;
}

const columns = ['id', 'workspace_id', 'email', 'name'];

function toRequester(row: RequesterRow): Requester {
  return { id: row.id, workspaceId: row.workspace_id, email: row.email, name: row.name };
}

export async function findById(
  trx: Trx,
  workspaceId: string,
  id: string,
): Promise<Requester | undefined> {
  const row = await trx('requesters')
    .select<RequesterRow[]>(columns)
    .where({ workspace_id: workspaceId, id })
    .first<RequesterRow | undefined>();
  return row ? toRequester(row) : undefined;
}

/**
 * Finds the requester for an address or creates one. An existing requester keeps its name:
 * an anonymous form must not rename somebody else's account.
 */
export async function findOrCreate(
  trx: Trx,
  input: { workspaceId: string; email: string; name: string },
): Promise<Requester> {
  const inserted = await trx('requesters')
    .insert({ workspace_id: input.workspaceId, email: input.email, name: input.name })
    .onConflict(['workspace_id', 'email'])
    .ignore()
    .returning<RequesterRow[]>(columns);
  if (inserted[0]) return toRequester(inserted[0]);
  const row = await trx('requesters')
    .select<RequesterRow[]>(columns)
    .where({ workspace_id: input.workspaceId, email: input.email })
    .first<RequesterRow | undefined>();
  if (!row) throw new Error('requester vanished between insert and select');
  return toRequester(row);
}

/** Fills in a name only where none was known yet (a magic-link sign-up has no name). */
export async function setNameIfBlank(
  trx: Trx,
  workspaceId: string,
  id: string,
  name: string,
): Promise<void> {
  await trx('requesters').where({ workspace_id: workspaceId, id, name: '' }).update({ name });
}
