/**
 * The name a file is stored and shown under. Browsers and mail clients send whatever the sender's
 * system had: a full Windows path, decomposed accents (macOS), control characters that break a
 * header, or bidirectional overrides that make `invoice‮fdp.exe` read as `invoiceexe.pdf`.
 */
export const MAX_FILE_NAME_LENGTH = 200;

const FALLBACK = 'attachment';
// C0/C1 controls; bidi embeddings, overrides, isolates and marks; the byte-order mark.
const UNSAFE = /[\p{Cc}\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069\ufeff]/gu;
const EXTENSION = /\.[\p{L}\p{N}]{1,10}$/u;

export function cleanFileName(raw: string): string {
  const base = raw.normalize('NFC').split(/[/\\]/).at(-1) ?? '';
  // Again after removing characters: a mark that followed a removed one may now compose.
  const name = base.replace(UNSAFE, '').replace(/\s+/g, ' ').trim().normalize('NFC');
  if (name === '' || /^\.+$/.test(name)) return FALLBACK;
  const chars = Array.from(name);
  if (chars.length <= MAX_FILE_NAME_LENGTH) return name;
  const extension = Array.from(EXTENSION.exec(name)?.[0] ?? '');
  const stem = chars.slice(0, chars.length - extension.length);
  return [...stem.slice(0, MAX_FILE_NAME_LENGTH - extension.length), ...extension].join('').trim();
}
