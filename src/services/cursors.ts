import { HttpError } from '../errors';
import type { ActivityCursor } from '../models/tickets';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
// Exactly what toISOString writes for years 0000–9999: Date accepts six-digit years that PostgreSQL cannot store.
const ISO_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;

/** The `?after=` value of the page that follows this ticket in "newest activity first" order. */
export function encodeActivityCursor(cursor: ActivityCursor): string {
  return Buffer.from(`${cursor.at.toISOString()}|${cursor.id}`).toString('base64url');
}

/** Keyset cursor from `?after=`; anything unreadable is a 400, not a silent first page. */
export function decodeActivityCursor(value: unknown): ActivityCursor | undefined {
  if (value === undefined) return undefined;
  const [at, id] =
    typeof value === 'string' ? Buffer.from(value, 'base64url').toString().split('|') : [];
  const date = at && ISO_TIME.test(at) ? new Date(at) : undefined;
  if (!date || Number.isNaN(date.getTime()) || !id || !UUID.test(id)) {
    throw new HttpError(400, 'bad cursor');
  }
  return { at: date, id };
}
