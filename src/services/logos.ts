import sharp from 'sharp';

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

/**
 * The portal shows the logo in a 40 × 40 CSS pixel box (mail, 40 pixels high); twice that covers
 * screens of 2× density. The copy fits inside the box, keeping its proportions, never enlarged.
 */
export const LOGO_BOX_PX = 80;

/**
 * Decompression bombs: a 512 KB file can declare billions of pixels. 25 megapixels (5,000 × 5,000)
 * is far beyond any logo, and bounds the memory a resize takes to about 100 MB.
 */
export const MAX_LOGO_PIXELS = 25_000_000;

export interface ResizedLogo {
  content: Buffer;
  /** PNG: mail clients show it everywhere (WebP not in all), with transparency kept. */
  type: 'image/png';
}

export type PreparedLogo =
  | { ok: true; type: LogoType; content: Buffer; resized: ResizedLogo }
  | { ok: false; message: string };

const UNREADABLE =
  'The logo could not be read as an image. Save it again as a PNG, JPEG or WebP file and upload it';
const TOO_MANY_PIXELS = 'The logo must be 5,000 by 5,000 pixels or smaller';

/**
 * The copy that the portal and the mail show. A palette PNG keeps transparency and flat logo
 * colours, and its size is bounded (80 × 80 indices and a 256-colour palette: under 10 KB
 * whatever the upload held), so any accepted logo keeps a page within its budget.
 */
export async function resizeLogo(content: Buffer): Promise<ResizedLogo> {
  const data = await sharp(content, { limitInputPixels: MAX_LOGO_PIXELS })
    .autoOrient()
    .resize({ width: LOGO_BOX_PX, height: LOGO_BOX_PX, fit: 'inside', withoutEnlargement: true })
    .png({ palette: true, compressionLevel: 9, effort: 10 })
    .toBuffer();
  return { content: data, type: 'image/png' };
}

/**
 * checkLogo, then the image library's verdict: a file with a valid signature whose pixels cannot
 * be decoded, or that declares too many of them, is refused with words, never a 500.
 */
export async function prepareLogo(
  file: { buffer: Buffer; size: number } | undefined,
): Promise<PreparedLogo> {
  const check = checkLogo(file);
  if (!check.ok) return check;
  let size: { width?: number; height?: number };
  try {
    size = await sharp(check.content, { limitInputPixels: false }).metadata();
  } catch {
    return { ok: false, message: UNREADABLE };
  }
  if ((size.width ?? 0) * (size.height ?? 0) > MAX_LOGO_PIXELS)
    return { ok: false, message: TOO_MANY_PIXELS };
  try {
    return { ...check, resized: await resizeLogo(check.content) };
  } catch {
    return { ok: false, message: UNREADABLE };
  }
}

/** A PNG's width and height, from its header (IHDR, always the first chunk). */
export function pngSize(png: Buffer): { width: number; height: number } {
  return { width: png.readUInt32BE(16), height: png.readUInt32BE(20) };
}
