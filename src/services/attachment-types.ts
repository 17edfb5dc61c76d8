import { translatorFor, type Translate } from '../i18n/translate';

/**
 * The allow-list, judged by content only: a file's name and the browser's claim are never asked.
 * Binary formats are recognised by their signatures (file-type); what file-type does not know is
 * accepted only as text: no control bytes, and not markup (an HTML or SVG page dressed as text
 * would still be a page). The same list is the database's check constraint.
 */
export const ALLOWED_TYPES = {
  'image/png': 'png',
  'image/jpeg': 'jpeg',
  'image/gif': 'gif',
  'image/webp': 'webp',
  'application/pdf': 'pdf',
  'text/plain': 'text',
  'text/csv': 'csv',
  'application/vnd.openxmlformats-officedocument.wordprocessingml.document': 'word',
  'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet': 'excel',
  'application/vnd.openxmlformats-officedocument.presentationml.presentation': 'powerpoint',
} as const;

export type AllowedType = keyof typeof ALLOWED_TYPES;

/**
 * How much of a file's start decides its type. Office files are ZIP archives recognised by the
 * entries near their start, so the sample is generous; it is also the storage's chunk size, so
 * the sample costs no extra copy.
 */
export const SAMPLE_BYTES = 256 * 1024;

export function isAllowedType(type: string): type is AllowedType {
  return Object.hasOwn(ALLOWED_TYPES, type);
}

/** "PNG image", "Word document": in the reader's language (the catalogues' `files.types`). */
export function typeLabel(type: string, t: Translate = translatorFor('en')): string {
  return isAllowedType(type) ? t(`files.types.${ALLOWED_TYPES[type]}`) : type;
}

// Text may hold tab, line feed, form feed and carriage return; no other C0 control, nor DEL.
const TEXT_CONTROLS = new Set([0x09, 0x0a, 0x0c, 0x0d]);

function looksLikeText(sample: Buffer): boolean {
  return sample.every((byte) => (byte >= 0x20 && byte !== 0x7f) || TEXT_CONTROLS.has(byte));
}

function looksLikeMarkup(text: string): boolean {
  return text
    .replace(/^\uFEFF/, '')
    .trimStart()
    .startsWith('<');
}

/** Fields split on commas or semicolons, quoted fields kept whole. */
function delimiterCount(line: string, delimiter: string): number {
  let count = 0;
  let quoted = false;
  for (const char of line) {
    if (char === '"') quoted = !quoted;
    else if (char === delimiter && !quoted) count += 1;
  }
  return count;
}

/** At least two complete lines, each with the same (non-zero) number of separators. */
function looksLikeCsv(text: string, complete: boolean): boolean {
  const lines = text.split(/\r?\n/);
  if (!complete || lines.at(-1) === '') lines.pop();
  const rows = lines.filter((line) => line.trim() !== '');
  if (rows.length < 2) return false;
  return [',', ';'].some((delimiter) => {
    const first = delimiterCount(rows[0]!, delimiter);
    return first > 0 && rows.every((row) => delimiterCount(row, delimiter) === first);
  });
}

/**
 * The allowed type of a file whose first bytes are `sample`, or undefined when it is not
 * allowed. `complete` says the sample is the whole file (so its last line is a whole line).
 */
export async function detectType(
  sample: Buffer,
  complete: boolean,
): Promise<AllowedType | undefined> {
  if (sample.length === 0) return undefined;
  // Loaded at the first file, not at start: about 11 MB a server that never takes one keeps.
  const { fileTypeFromBuffer } = await import('file-type');
  let detected;
  try {
    detected = await fileTypeFromBuffer(sample);
  } catch {
    // A signature with a broken body behind it (a truncated archive, say) is no allowed type.
    return undefined;
  }
  if (detected) return isAllowedType(detected.mime) ? detected.mime : undefined;
  if (!looksLikeText(sample)) return undefined;
  const text = sample.toString('utf8');
  if (looksLikeMarkup(text)) return undefined;
  return looksLikeCsv(text, complete) ? 'text/csv' : 'text/plain';
}
