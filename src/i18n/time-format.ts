import { defaultLanguageCode, isSupportedLanguage } from './languages';
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
const fields: Intl.DateTimeFormatOptions = {
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
const formatters = new Map<string, Intl.DateTimeFormat>();

function formatterFor(language: string, timeZone: string): Intl.DateTimeFormat {
  const key = `${language} ${timeZone}`;
  let formatter = formatters.get(key);
  if (!formatter) {
    formatter = new Intl.DateTimeFormat(formattingLocale[language] ?? language, {
      ...fields,
      timeZone,
    });
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
  return formatterFor(lang, zone).format(new Date(value));
}

/** How many formatters are kept (for the test that holds the cache to its bound). */
export function cachedFormatterCount(): number {
  return formatters.size;
}
