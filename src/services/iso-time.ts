import { BoundedCache } from './bounded-cache';

/**
 * `Date#toISOString`, about five times faster where many instants are written: a CSV export
 * writes three a ticket, and toISOString cost about 1 µs each (a tenth of the export's CPU).
 * The day's part is the runtime's own text, kept per day; the time of day is arithmetic.
 */
const msPerDay = 86_400_000;
const dayPrefixes = new BoundedCache(10_000, (day: number) => {
  const iso = new Date(day * msPerDay).toISOString();
  return iso.slice(0, iso.indexOf('T') + 1);
});
const twoDigits = Array.from({ length: 100 }, (_, n) => String(n).padStart(2, '0'));
const threeDigits = Array.from({ length: 1000 }, (_, n) => String(n).padStart(3, '0'));

/** ISO 8601 in UTC with milliseconds, exactly as `value.toISOString()` writes it. */
export function isoString(value: Date): string {
  const at = value.getTime();
  // An invalid date throws as toISOString does.
  if (Number.isNaN(at)) return value.toISOString();
  const day = Math.floor(at / msPerDay);
  let rest = at - day * msPerDay;
  const ms = rest % 1000;
  rest = (rest - ms) / 1000;
  const seconds = rest % 60;
  rest = (rest - seconds) / 60;
  const minutes = rest % 60;
  const hours = (rest - minutes) / 60;
  return `${dayPrefixes.get(day)}${twoDigits[hours]}:${twoDigits[minutes]}:${twoDigits[seconds]}.${threeDigits[ms]}Z`;
}
