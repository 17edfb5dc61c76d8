import pg from 'pg';

/**
 * node-postgres parses every `timestamptz` with a regular expression and a handful of
 * parseInts (postgres-date): on a list page of 26 tickets with six timestamps each that was about
 * a tenth of the request's CPU time under the bench. PostgreSQL's own output (DateStyle ISO,
 * which node-postgres sets) has one fixed shape, read here digit by digit:
 *
 *   YYYY-MM-DD HH:MM:SS[.ffffff]±HH[:MM]
 *
 * Anything else (infinity, BC dates, years past 9999, offsets with seconds) goes to the parser
 * node-postgres would have used, so the result is always the same Date.
 */
const fallback = pg.types.getTypeParser(pg.types.builtins.TIMESTAMPTZ, 'text') as (
  text: string,
) => Date | number | null;

const DASH = 45;
const SPACE = 32;
const COLON = 58;
const DOT = 46;
const PLUS = 43;
const ZERO = 48;
const NINE = 57;

function twoDigits(text: string, at: number): number {
  const tens = text.charCodeAt(at) - ZERO;
  const ones = text.charCodeAt(at + 1) - ZERO;
  // NaN for anything but two digits: the caller then hands the text to the fallback.
  return tens >= 0 && tens <= 9 && ones >= 0 && ones <= 9 ? tens * 10 + ones : NaN;
}

export function parseTimestamptz(text: string): Date | number | null {
  const length = text.length;
  if (
    length < 22 ||
    text.charCodeAt(4) !== DASH ||
    text.charCodeAt(7) !== DASH ||
    text.charCodeAt(10) !== SPACE ||
    text.charCodeAt(13) !== COLON ||
    text.charCodeAt(16) !== COLON
  ) {
    return fallback(text);
  }
  const year = twoDigits(text, 0) * 100 + twoDigits(text, 2);
  const month = twoDigits(text, 5);
  const day = twoDigits(text, 8);
  const hour = twoDigits(text, 11);
  const minute = twoDigits(text, 14);
  const second = twoDigits(text, 17);
  let at = 19;
  let ms = 0;
  if (text.charCodeAt(at) === DOT) {
    at += 1;
    for (let scale = 100; at < length; at += 1, scale /= 10) {
      const c = text.charCodeAt(at);
      if (c < ZERO || c > NINE) break;
      ms += (c - ZERO) * scale;
    }
  }
  const sign = text.charCodeAt(at);
  if (sign !== PLUS && sign !== DASH) return fallback(text);
  let offset = twoDigits(text, at + 1) * 60;
  at += 3;
  if (at < length) {
    if (text.charCodeAt(at) !== COLON || length - at !== 3) return fallback(text);
    offset += twoDigits(text, at + 1);
  } else if (at > length) {
    return fallback(text);
  }
  const utc = Date.UTC(year, month - 1, day, hour, minute, second, Math.floor(ms));
  const time = utc - (sign === DASH ? -offset : offset) * 60_000;
  // Years 0–99 are taken by Date.UTC as 1900–1999; such text (and any non-digit) goes to the fallback.
  if (Number.isNaN(time) || year < 100) return fallback(text);
  return new Date(time);
}

/** Installs the parser for every connection of this process (pg's type parsers are global). */
export function useFastTimestamps(): void {
  pg.types.setTypeParser(pg.types.builtins.TIMESTAMPTZ, parseTimestamptz);
}
