import { defaultLanguageCode, isSupportedLanguage } from './languages';
import { BoundedCache } from '../services/bounded-cache';
import { isoString } from '../services/iso-time';
import { defaultTimeZone, isSupportedTimeZone } from './time-zones';

/**
 * A time as people read it: in the reader's language and time zone, with the zone named, so
 * "30 nov 2026, 7:00 CET" needs no arithmetic and says which clock it is on. The exact instant
 * stays in `<time datetime>` (the isoTime filter).
 */

// The portal's English is British ("30 Nov 2026, 06:00"); every other language's own
// conventions are Intl's for its code, so a new catalogue needs no entry here.
const formattingLocale: Record<string, string> = { en: 'en-GB' };

// dateStyle/timeStyle cannot be combined with timeZoneName, hence the fields one by one.
export const humanTimeFields: Intl.DateTimeFormatOptions = {
  day: 'numeric',
  month: 'short',
  year: 'numeric',
  hour: 'numeric',
  minute: '2-digit',
  timeZoneName: 'short',
};

// Building a formatter costs far more than formatting with it, and a list page formats dozens
// of times. Keyed by language and zone, both checked against their fixed lists first, so the
// map is bounded by languages × zones.
const formatters = new Map<string, MinuteFormatter>();

// Formatting with a built formatter still costs about a microsecond: a quarter of the ticket
// list's template, which shows 25 times. The text depends only on the minute (no seconds are
// shown, and Intl truncates rather than rounds), and pages show the same times again and again
// (a list reloaded, a thread read by both sides), so each formatter keeps its recent minutes.
const entriesKept = 4096;
const msPerMinute = 60_000;

interface MinuteFormatter {
  format: Intl.DateTimeFormat;
  /** Keyed by minutes since the epoch; any instant in the minute reads the same. */
  byMinute: BoundedCache<number, string>;
}

function formatterFor(language: string, timeZone: string): MinuteFormatter {
  const key = `${language} ${timeZone}`;
  let formatter = formatters.get(key);
  if (!formatter) {
    const format = new Intl.DateTimeFormat(formattingLocale[language] ?? language, {
      ...humanTimeFields,
      timeZone,
    });
    formatter = {
      format,
      byMinute: new BoundedCache(entriesKept, (minute) => format.format(minute * msPerMinute)),
    };
    formatters.set(key, formatter);
  }
  return formatter;
}

/**
 * `value` (a Date, or an ISO string as the "your data" copy holds them) for a reader of
 * `language` in `timeZone`. A language or zone no longer known (a zone dropped from the
 * runtime's data, say) falls back to English or UTC rather than failing the page.
 */
export function humanTime(value: Date | string, language: string, timeZone: string): string {
  const lang = isSupportedLanguage(language) ? language : defaultLanguageCode;
  const zone = isSupportedTimeZone(timeZone) ? timeZone : defaultTimeZone;
  const formatter = formatterFor(lang, zone);
  const instant = typeof value === 'string' ? new Date(value) : value;
  const at = instant.getTime();
  // An invalid date formats as Intl would have it (it throws a RangeError), never from the cache.
  if (Number.isNaN(at)) return formatter.format.format(instant);
  return formatter.byMinute.get(Math.floor(at / msPerMinute));
}

// A thread page writes every message's instant into its `<time datetime>`, and the same instants
// come back on every view of the thread: each one's text is kept, made by the export's formatter.
const isoByInstant = new BoundedCache(entriesKept, (at: number) => isoString(new Date(at)));

/** The exact instant for `<time datetime>`: ISO 8601 in UTC, as `Date#toISOString` writes it. */
export function isoTime(value: Date): string {
  const at = value.getTime();
  // An invalid date throws as toISOString does, and is never kept.
  return Number.isNaN(at) ? isoString(value) : isoByInstant.get(at);
}

/** How many formatters are kept (for the test that holds the cache to its bound). */
export function cachedFormatterCount(): number {
  return formatters.size;
}

/** The most minutes any formatter keeps (for the test that holds that cache to its bound). */
export function cachedMinuteCount(): number {
  return Math.max(0, ...[...formatters.values()].map((f) => f.byMinute.size));
}
