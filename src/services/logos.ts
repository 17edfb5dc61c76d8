/** The image types a workspace logo may have: raster formats every browser shows, nothing scriptable. */
export type LogoType = 'image/png' | 'image/jpeg' | 'image/webp';

export const MAX_LOGO_BYTES = 512 * 1024;

const PNG = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
const JPEG = Buffer.from([0xff, 0xd8, 0xff]);
const RIFF = Buffer.from('RIFF', 'ascii');
const WEBP = Buffer.from('WEBP', 'ascii');

/**
 * The type of an image judged by its first bytes (its signature), never by its name or the type
 * the browser declared: an SVG, GIF or text file renamed logo.png is none of the three.
 */
export function detectLogoType(content: Buffer): LogoType | undefined {
  if (content.subarray(0, PNG.length).equals(PNG)) return 'image/png';
  if (content.subarray(0, JPEG.length).equals(JPEG)) return 'image/jpeg';
  if (content.subarray(0, 4).equals(RIFF) && content.subarray(8, 12).equals(WEBP))
    return 'image/webp';
  return undefined;
}

export type LogoCheck =
  { ok: true; type: LogoType; content: Buffer } | { ok: false; message: string };

/** Whether an uploaded file may become the logo, with the words to show when not. */
export function checkLogo(file: { buffer: Buffer; size: number } | undefined): LogoCheck {
  if (!file) return { ok: false, message: 'Select a PNG, JPEG or WebP image to upload' };
  if (file.size === 0) return { ok: false, message: 'The selected file is empty' };
  const type = detectLogoType(file.buffer);
  if (!type) return { ok: false, message: 'The logo must be a PNG, JPEG or WebP image' };
  if (file.size > MAX_LOGO_BYTES)
    return { ok: false, message: 'The logo must be 512 KB or smaller' };
  return { ok: true, type, content: file.buffer };
}
