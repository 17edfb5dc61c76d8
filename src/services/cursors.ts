import { HttpError } from '../errors';

/**
 * A keyset position: a time and the id that breaks ties. Ticket lists page by last activity
 * (`?after=`), threads by the time of a message or status change (`?before=`); both travel in
 * URLs in this one form.
 */
export interface KeysetCursor {
  at: Date;
  id: string;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
// Exactly what toISOString writes for years 0000–9999: Date accepts six-digit years that PostgreSQL cannot store.
const ISO_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;

export function encodeCursor(cursor: KeysetCursor): string {
  return Buffer.from(`${cursor.at.toISOString()}|${cursor.id}`).toString('base64url');
}

/** A cursor from the query string; anything unreadable is a 400, not a silent first page. */
export function decodeCursor(value: unknown): KeysetCursor | undefined {
  if (value === undefined) return undefined;
  const [at, id] =
    typeof value === 'string' ? Buffer.from(value, 'base64url').toString().split('|') : [];
  const date = at && ISO_TIME.test(at) ? new Date(at) : undefined;
  if (!date || Number.isNaN(date.getTime()) || !id || !UUID.test(id)) {
    throw new HttpError(400, 'bad cursor');
  }
  return { at: date, id };
}

/**
 * The links between pages of a thread at `href`: an earlier page, when there is one, and back to
 * the latest (the page with the reply form), for a page opened at `before`.
 */
export function threadLinks(
  href: string,
  before: KeysetCursor | undefined,
  earlier: KeysetCursor | undefined,
): { isLatest: boolean; earlierHref?: string; latestHref: string } {
  return {
    isLatest: before === undefined,
    earlierHref: earlier && `${href}?before=${encodeCursor(earlier)}#conversation`,
    latestHref: `${href}#conversation`,
  };
}
