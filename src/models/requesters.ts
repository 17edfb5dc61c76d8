import type { Trx } from '../db/knex';
import { rowByKey } from './statement-texts';

export interface Requester {
  id: string;
  workspaceId: string;
  email: string;
  name: string;
  /** The portal language they last used; null until then (the workspace's default applies). */
  language: string | null;
  /** The IANA zone they chose; null means the workspace's. */
  timeZone: string | null;
}

interface RequesterRow {
  id: string;
  workspace_id: string;
  email: string;
  name: string;
  language: string | null;
  time_zone: string | null;
}

const columns = ['id', 'workspace_id', 'email', 'name', 'language', 'time_zone'];

function toRequester(row: RequesterRow): Requester {
  return {
    id: row.id,
    workspaceId: row.workspace_id,
    email: row.email,
    name: row.name,
    language: row.language,
    timeZone: row.time_zone,
  };
}

// A ticket's requester, on every agent's reply and a visitor's action (mail goes out in their
// language).
const requesterById = rowByKey<RequesterRow>('requesters', columns, 'id');

export async function findById(
  trx: Trx,
  workspaceId: string,
  id: string,
): Promise<Requester | undefined> {
  const row = await requesterById(trx, workspaceId, id);
  return row ? toRequester(row) : undefined;
}

/**
 * Finds the requester for an address or creates one. An existing requester keeps its name:
 * an anonymous form must not rename somebody else's account. A `language` (the portal page's)
 * is remembered in the same statement, written only where it changes.
 */
export async function findOrCreate(
  trx: Trx,
  input: { workspaceId: string; email: string; name: string; language?: string },
): Promise<Requester> {
  const insert = trx('requesters')
    .insert({
      workspace_id: input.workspaceId,
      email: input.email,
      name: input.name,
      language: input.language ?? null,
    })
    .onConflict(['workspace_id', 'email']);
  const upsert = input.language
    ? insert
        .merge({ language: input.language })
        .where(trx.raw('requesters.language is distinct from ?', [input.language]))
    : insert.ignore();
  const inserted = await upsert.returning<RequesterRow[]>(columns);
  if (inserted[0]) return toRequester(inserted[0]);
  const row = await trx('requesters')
    .select<RequesterRow[]>(columns)
    .where({ workspace_id: input.workspaceId, email: input.email })
    .first<RequesterRow | undefined>();
  if (!row) throw new Error('requester vanished between insert and select');
  return toRequester(row);
}

/**
 * Remembers the language of the portal page a requester acted on (a POST: never a read), so
 * mail reaches them in it; a row already holding it is left unwritten.
 */
export async function rememberLanguage(
  trx: Trx,
  input: { workspaceId: string; id: string; language: string },
): Promise<void> {
  await trx('requesters')
    .where({ workspace_id: input.workspaceId, id: input.id })
    .whereRaw('language is distinct from ?', [input.language])
    .update({ language: input.language });
}

/**
 * The requester, with the page's language remembered, in one round trip: the statement the
 * action already made to read them carries the write. The read sees the row as it was before
 * the write (one snapshot), so the language answered is the one just remembered.
 */
export async function findRememberingLanguage(
  trx: Trx,
  input: { workspaceId: string; id: string; language: string },
): Promise<Requester | undefined> {
  const result = await trx.raw<{ rows: RequesterRow[] }>(
    `with remembered as (
       update requesters set language = :language
        where workspace_id = :workspaceId and id = :id and language is distinct from :language
     )
     select ${columns.join(', ')} from requesters where workspace_id = :workspaceId and id = :id`,
    input,
  );
  const row = result.rows[0];
  return row ? { ...toRequester(row), language: input.language } : undefined;
}

/**
 * The sign-in request's version, by address: remembers the page's language on a requester the
 * address may have and answers their chosen zone (null: none chosen, or no such requester). One
 * statement either way, so whether the address is known takes no longer to find out.
 */
export async function rememberLanguageByEmail(
  trx: Trx,
  input: { workspaceId: string; email: string; language: string },
): Promise<{ timeZone: string | null }> {
  const result = await trx.raw<{ rows: { time_zone: string | null }[] }>(
    `with remembered as (
       update requesters set language = :language
        where workspace_id = :workspaceId and email = :email and language is distinct from :language
     )
     select time_zone from requesters where workspace_id = :workspaceId and email = :email`,
    input,
  );
  return { timeZone: result.rows[0]?.time_zone ?? null };
}

/** The requester with this address, if the workspace has one. */
export async function findByEmail(
  trx: Trx,
  workspaceId: string,
  email: string,
): Promise<Requester | undefined> {
  const row = await trx('requesters')
    .select<RequesterRow[]>(columns)
    .where({ workspace_id: workspaceId, email })
    .first<RequesterRow | undefined>();
  return row ? toRequester(row) : undefined;
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

/**
 * The requester's own time zone; null goes back to the workspace's. The preferences form is a
 * portal action like any other, so the same UPDATE remembers the page's language (see
 * rememberLanguage).
 */
export async function setTimeZone(
  trx: Trx,
  workspaceId: string,
  id: string,
  timeZone: string | null,
  language: string,
): Promise<void> {
  await trx('requesters')
    .where({ workspace_id: workspaceId, id })
    .update({ time_zone: timeZone, language });
}

/** What the workspace holds on the requester record itself, for "Your data". */
export interface RequesterRecord extends Requester {
  createdAt: Date;
  erasureRequestedAt: Date | null;
}

export async function findRecord(
  trx: Trx,
  workspaceId: string,
  id: string,
): Promise<RequesterRecord | undefined> {
  const row = await trx('requesters')
    .select<(RequesterRow & { created_at: Date; erasure_requested_at: Date | null })[]>([
      ...columns,
      'created_at',
      'erasure_requested_at',
    ])
    .where({ workspace_id: workspaceId, id })
    .whereNull('erased_at')
    .first();
  return row
    ? {
        ...toRequester(row),
        createdAt: row.created_at,
        erasureRequestedAt: row.erasure_requested_at,
      }
    : undefined;
}

/**
 * Records the requester's wish to be erased; a second request changes nothing. Answers whether
 * this call made the request.
 */
export async function requestErasure(
  trx: Trx,
  input: { workspaceId: string; id: string; at: Date },
): Promise<boolean> {
  const updated = await trx('requesters')
    .where({ workspace_id: input.workspaceId, id: input.id })
    .whereNull('erasure_requested_at')
    .whereNull('erased_at')
    .update({ erasure_requested_at: input.at });
  return updated > 0;
}

export interface ErasureRequest {
  id: string;
  email: string;
  name: string;
  requestedAt: Date;
  ticketCount: number;
}

/** Requests not yet carried out, oldest first (the longest waiting come first). */
export async function listErasureRequests(
  trx: Trx,
  workspaceId: string,
): Promise<ErasureRequest[]> {
  const rows = await trx('requesters as r')
    .select<
      { id: string; email: string; name: string; requested_at: Date; ticket_count: string }[]
    >(
      'r.id',
      'r.email',
      'r.name',
      'r.erasure_requested_at as requested_at',
      trx.raw(
        `(select count(*) from tickets t
           where t.workspace_id = r.workspace_id and t.requester_id = r.id) as ticket_count`,
      ),
    )
    .where('r.workspace_id', workspaceId)
    .whereNotNull('r.erasure_requested_at')
    .whereNull('r.erased_at')
    .orderBy([
      { column: 'r.erasure_requested_at', order: 'asc' },
      { column: 'r.id', order: 'asc' },
    ]);
  return rows.map((row) => ({
    id: row.id,
    email: row.email,
    name: row.name,
    requestedAt: row.requested_at,
    ticketCount: Number(row.ticket_count),
  }));
}

/**
 * Locks a requester whose erasure is pending and answers it as it is now (its address and name
 * are needed to find them elsewhere). The lock makes a second confirmation wait and then find
 * nothing, and holds off new tickets for the requester until the erasure commits.
 */
export async function lockPendingErasure(
  trx: Trx,
  workspaceId: string,
  id: string,
): Promise<Requester | undefined> {
  const row = await trx('requesters')
    .select<RequesterRow[]>(columns)
    .where({ workspace_id: workspaceId, id })
    .whereNotNull('erasure_requested_at')
    .whereNull('erased_at')
    .forUpdate()
    .first<RequesterRow | undefined>();
  return row ? toRequester(row) : undefined;
}

/** Replaces the name and address with placeholders; the row stays for the tickets' sake. */
export async function markErased(
  trx: Trx,
  input: { workspaceId: string; id: string; name: string; email: string; at: Date },
): Promise<void> {
  await trx('requesters')
    .where({ workspace_id: input.workspaceId, id: input.id })
    .update({ name: input.name, email: input.email, erased_at: input.at });
}
