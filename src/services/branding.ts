import { createHash } from 'node:crypto';
import { BoundedCache } from './bounded-cache';

/** WCAG relative luminance of a #rrggbb colour. */
export function luminance(hex: string): number {
  const channels = [1, 3, 5].map((i) => parseInt(hex.slice(i, i + 2), 16) / 255);
  const [r, g, b] = channels.map((c) =>
    c <= 0.03928 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4,
  ) as [number, number, number];
  return 0.2126 * r + 0.7152 * g + 0.0722 * b;
}

export function contrastRatio(a: string, b: string): number {
  const [hi, lo] = [luminance(a), luminance(b)].sort((x, y) => y - x) as [number, number];
  return (hi + 0.05) / (lo + 0.05);
}

/** Black or white, whichever reads better on the brand colour. */
export function textColourOn(background: string): '#000000' | '#ffffff' {
  return contrastRatio(background, '#000000') >= contrastRatio(background, '#ffffff')
    ? '#000000'
    : '#ffffff';
}

/**
 * The brand colour as used for links and focus rings on the white page: where the colour itself
 * is too light (or too dark) to read as text on white, a darkened variant keeps 4.5:1.
 */
export function linkColourOnWhite(brand: string): string {
  let [r, g, b] = [1, 3, 5].map((i) => parseInt(brand.slice(i, i + 2), 16)) as [
    number,
    number,
    number,
  ];
  const hex = (): string => `#${[r, g, b].map((c) => c.toString(16).padStart(2, '0')).join('')}`;
  while (contrastRatio(hex(), '#ffffff') < 4.5) {
    [r, g, b] = [r, g, b].map((c) => Math.floor(c * 0.9)) as [number, number, number];
  }
  return hex();
}

/**
 * The per-workspace stylesheet: custom properties only, so the main stylesheet stays shared. The
 * agent app's branding preview scopes the same properties to its preview block.
 */
export function brandStylesheet(primaryColour: string, selector = ':root'): string {
  return (
    `${selector}{--brand:${primaryColour};--brand-text:${textColourOn(primaryColour)};` +
    `--brand-link:${linkColourOnWhite(primaryColour)}}\n`
  );
}

// Every portal page names its stylesheet by version; the colours and logo versions in use are
// few, so each one's hash is kept rather than computed again for every page.
const versions = new BoundedCache(1000, (key: string) =>
  createHash('sha256').update(key).digest('hex').slice(0, 12),
);

/** Changes whenever the colour or logo does, so the stylesheet can be cached for a year. */
export function brandVersion(primaryColour: string, logoVersion: number): string {
  return versions.get(`${primaryColour}:${logoVersion}`);
}
