import { translatorFor, type Translate } from '../i18n/translate';

/** Sizes as people read them, for limits, hints and file lists, in the reader's language. */

const MEGABYTE = 1024 * 1024;
const english = translatorFor('en');

/** Whole megabytes (10 for 10 MB): limits as the forms and refusals state them. */
export function megabytes(bytes: number): number {
  return Math.round(bytes / MEGABYTE);
}

/** "340 bytes", "12 KB", "1.5 MB" ("1,5 MB" in German): a file's size as the thread shows it. */
export function humanSize(bytes: number, t: Translate = english): string {
  if (bytes < 1024) return t('files.size.bytes', { count: bytes });
  if (bytes < MEGABYTE) return t('files.size.kilobytes', { count: Math.round(bytes / 1024) });
  return t('files.size.megabytes', { count: Math.round((bytes / MEGABYTE) * 10) / 10 });
}

/**
 * A file's size as humanSize rounds it, as a number and a unit, for a message to put into words
 * in its own language (a mail: "1,5 MB" in German).
 */
export function sizeInUnits(bytes: number): { value: number; unit: 'bytes' | 'kb' | 'mb' } {
  if (bytes < 1024) return { value: bytes, unit: 'bytes' };
  if (bytes < 1024 * 1024) return { value: Math.round(bytes / 1024), unit: 'kb' };
  return { value: Math.round((bytes / (1024 * 1024)) * 10) / 10, unit: 'mb' };
}
