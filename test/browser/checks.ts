/// <reference lib="dom" />
// Functions passed to page.evaluate run in the browser, hence the DOM types in this file. They
// declare no named inner functions: tsx would wrap those in a helper the page does not have.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { AxeBuilder } from '@axe-core/playwright';
import type { Page } from 'playwright-core';
import { translate } from '../../src/i18n/translate';
import { contrastRatio } from '../../src/services/branding';
import { writeOutput, type Transfer } from './harness';

export const AXE_TAGS = ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'wcag22aa'];

/** Zero axe violations; the message names each rule and where it fired. Needs JavaScript on. */
export async function assertNoAxeViolations(page: Page, label: string): Promise<void> {
  const results = await new AxeBuilder({ page }).withTags(AXE_TAGS).analyze();
  const found = results.violations.map(
    (v) =>
      `${v.id} (${v.impact ?? ''}): ${v.help} at ${v.nodes
        .map((n) => `${n.target.join(' ')} [${n.failureSummary?.replace(/\s+/g, ' ') ?? ''}]`)
        .join(', ')}`,
  );
  assert.deepEqual(found, [], `axe on ${label}`);
}

/**
 * One h1, a title (prefixed "Error: ", in the page's language, exactly when an error summary
 * shows), lang on <html> (English unless `lang` says otherwise), and
 * one banner (header), one main and one contentinfo (footer) landmark. Returns the title.
 */
export async function assertStructure(page: Page, label: string, lang = 'en'): Promise<string> {
  const facts = await page.evaluate(() => {
    // header and footer are landmarks only outside sectioning content.
    const [header, footer] = ['header', 'footer'].map(
      (tag) =>
        [...document.querySelectorAll(tag)].filter(
          (e) => !e.parentElement?.closest('article, aside, main, nav, section'),
        ).length,
    );
    return {
      h1: document.querySelectorAll('h1').length,
      title: document.title,
      lang: document.documentElement.getAttribute('lang'),
      header,
      main: document.querySelectorAll('main').length,
      footer,
      errorSummary: document.querySelectorAll('.error-summary').length,
    };
  });
  assert.equal(facts.h1, 1, `one h1 on ${label}`);
  assert.ok(facts.title.trim().length > 0, `a title on ${label}`);
  assert.equal(facts.lang, lang, `lang on ${label}`);
  assert.deepEqual(
    { header: facts.header, main: facts.main, footer: facts.footer },
    { header: 1, main: 1, footer: 1 },
    `header, main and footer landmarks on ${label}`,
  );
  const prefix = `${translate(lang, 'layout.errorPrefix')} `;
  assert.equal(
    facts.title.startsWith(prefix),
    facts.errorSummary > 0,
    `"${prefix}" title prefix on ${label}`,
  );
  return facts.title;
}

/** Each error-summary link, clicked, puts focus on the field it names. Returns how many links. */
export async function assertErrorLinksFocusFields(page: Page, label: string): Promise<number> {
  const links = page.locator('.error-summary a');
  const count = await links.count();
  for (let i = 0; i < count; i += 1) {
    const link = links.nth(i);
    const target = ((await link.getAttribute('href')) ?? '').replace(/^#/, '');
    await link.click();
    const focused = await page.evaluate(() => document.activeElement?.id ?? '');
    assert.equal(
      focused,
      target,
      `the summary link "${await link.innerText()}" focuses #${target} on ${label}`,
    );
  }
  return count;
}

/** Visible elements that stick out of the viewport sideways or are clipped by their box. */
function cutOffElements(page: Page): Promise<string[]> {
  return page.evaluate(() => {
    const width = document.documentElement.clientWidth;
    const hiddenRoots: Element[] = [];
    const found: string[] = [];
    for (const el of document.body.querySelectorAll('*')) {
      if (el.closest('.visually-hidden, .skip-link, .hp')) continue;
      if (hiddenRoots.some((root) => root.contains(el))) continue;
      const box = el.getBoundingClientRect();
      const style = getComputedStyle(el);
      if (
        style.display === 'none' ||
        style.visibility === 'hidden' ||
        (box.width === 0 && box.height === 0)
      )
        continue;
      const clips = style.overflowX !== 'visible';
      // The visually-hidden technique (a 1px clipping box), as for the small-screen table head.
      if (clips && (box.width <= 1 || box.height <= 1)) {
        hiddenRoots.push(el);
        continue;
      }
      const scrollsInside = ['INPUT', 'TEXTAREA', 'SELECT'].includes(el.tagName);
      const clipped = clips && !scrollsInside && el.scrollWidth > el.clientWidth + 1;
      if (box.left < -1 || box.right > width + 1 || clipped) {
        const name = `${el.tagName.toLowerCase()}${el.id ? `#${el.id}` : ''}${
          typeof el.className === 'string' && el.className
            ? `.${el.className.trim().split(/\s+/).join('.')}`
            : ''
        }`;
        found.push(
          `${name} (${Math.round(box.left)}–${Math.round(box.right)}${clipped ? ', clipped' : ''})`,
        );
      }
    }
    return found;
  });
}

/** At 320 CSS pixels nothing scrolls sideways and nothing is cut off. */
export async function assertReflows(page: Page, label: string): Promise<void> {
  const original = page.viewportSize() ?? { width: 1280, height: 900 };
  await page.setViewportSize({ width: 320, height: 640 });
  try {
    const width = await page.evaluate(() => document.documentElement.scrollWidth);
    assert.ok(width <= 320, `${label} is ${width}px wide at a 320px viewport`);
    assert.deepEqual(await cutOffElements(page), [], `cut off at 320px on ${label}`);
  } finally {
    await page.setViewportSize(original);
  }
}

/**
 * With the root font size doubled (200% text), forms stay usable: every control keeps a size and
 * stays inside the page, nothing overflows sideways and nothing is cut off.
 */
export async function assertUsableAt200Percent(page: Page, label: string): Promise<void> {
  await page.evaluate(() => {
    document.documentElement.style.fontSize = '200%';
  });
  try {
    const facts = await page.evaluate(() => {
      const root = document.documentElement;
      const controls = [
        ...document.querySelectorAll(
          'main input:not([type=hidden]), main textarea, main select, main button',
        ),
      ];
      const hidden = controls
        .filter((c) => {
          const box = c.getBoundingClientRect();
          return (
            !c.closest('.hp') &&
            (box.width === 0 || box.height === 0 || box.right > root.clientWidth + 1)
          );
        })
        .map((c) => c.id || c.textContent?.trim() || c.tagName);
      return { hidden, width: root.scrollWidth, client: root.clientWidth };
    });
    assert.deepEqual(facts.hidden, [], `form controls cut off at 200% text on ${label}`);
    assert.ok(
      facts.width <= facts.client,
      `${label} overflows at 200% text (${facts.width} > ${facts.client})`,
    );
    assert.deepEqual(await cutOffElements(page), [], `cut off at 200% text on ${label}`);
  } finally {
    await page.evaluate(() => {
      document.documentElement.style.fontSize = '';
    });
  }
}

/** Most bytes one portal page may take on a first visit: HTML, CSS and logo, uncompressed. */
export const PAGE_BUDGET_BYTES = 30_000;

/**
 * No script at all (no element, no request), no web font, at most 30 KB of HTML + CSS + images,
 * and HTML and CSS over 1 KB sent compressed. Returns the page's weight in bytes.
 */
export async function assertLightAndScriptFree(
  page: Page,
  transfers: { document: Transfer; resources: Transfer[] },
  label: string,
): Promise<number> {
  const scriptElements = await page.evaluate(() => document.querySelectorAll('script').length);
  assert.equal(scriptElements, 0, `<script> elements on ${label}`);
  const all = [transfers.document, ...transfers.resources];
  assert.deepEqual(
    all.filter((t) => t.type === 'script' || t.type === 'font').map((t) => `${t.type} ${t.url}`),
    [],
    `script or font requests on ${label}`,
  );
  const counted = all.filter((t) => ['document', 'stylesheet', 'image'].includes(t.type));
  const bytes = counted.reduce((sum, t) => sum + t.bytes, 0);
  assert.ok(
    bytes <= PAGE_BUDGET_BYTES,
    `${label} weighs ${bytes} bytes: ${counted.map((t) => `${t.url} ${t.bytes}`).join(', ')}`,
  );
  const uncompressed = counted
    .filter(
      (t) => t.type !== 'image' && t.bytes > 1024 && !['gzip', 'br'].includes(t.encoding ?? ''),
    )
    .map((t) => `${t.url} (${t.bytes} bytes, content-encoding ${t.encoding ?? 'none'})`);
  assert.deepEqual(uncompressed, [], `uncompressed responses on ${label}`);
  return bytes;
}

export async function screenshot(page: Page, name: string): Promise<void> {
  const original = page.viewportSize() ?? { width: 1280, height: 900 };
  writeOutput(`screenshots/${name}-1280.png`, await page.screenshot({ fullPage: true }));
  await page.setViewportSize({ width: 320, height: 640 });
  writeOutput(`screenshots/${name}-320.png`, await page.screenshot({ fullPage: true }));
  await page.setViewportSize(original);
}

const VNU = path.resolve(__dirname, '../../node_modules/vnu-jar/build/dist/vnu.jar');

/** The Nu Html Checker (one JVM for all files) finds no error in any of them. */
export function assertValidHtml(files: string[]): void {
  if (files.length === 0) return;
  const run = spawnSync('java', ['-jar', VNU, '--errors-only', '--format', 'json', ...files], {
    encoding: 'utf8',
    maxBuffer: 64 * 1024 * 1024,
  });
  if (run.error) throw run.error;
  let report: {
    messages: {
      type: string;
      url?: string;
      lastLine?: number;
      message: string;
      extract?: string;
    }[];
  };
  try {
    report = JSON.parse(run.stderr) as typeof report;
  } catch {
    throw new Error(
      `the Nu Html Checker did not answer JSON (exit ${run.status}): ${run.stderr.slice(0, 500)}`,
    );
  }
  const errors = report.messages
    .filter((m) => m.type !== 'info')
    .map(
      (m) =>
        `${path.basename(m.url ?? '?')}:${m.lastLine ?? '?'}: ${m.message} ‹${m.extract ?? ''}›`,
    );
  assert.deepEqual(errors, [], `the Nu Html Checker found errors in ${files.length} pages`);
}

/** The computed styles a focus indicator is made of, and the colour behind the element. */
interface Look {
  outlineStyle: string;
  outlineWidth: string;
  outlineColor: string;
  boxShadow: string;
  background: string;
  /** The first opaque background among the ancestors: what the element is drawn on. */
  behind: string;
}

/** Where a focus stop is and which parts of its look show that it has focus. */
export interface FocusStop {
  /** Index into the page's focusable elements, stable for one page load. */
  key: number;
  description: string;
  isSkipLink: boolean;
  isMain: boolean;
  rect: { top: number; left: number; bottom: number; right: number };
  /** Each change from the unfocused look that stands out at 3:1 or more; empty: no visible focus. */
  indicator: string[];
}

/**
 * Records how every focusable element looks unfocused (call it once after each page load, with
 * nothing focused): the reference for "the focused element looks different".
 */
export async function recordUnfocusedLooks(page: Page): Promise<void> {
  await page.evaluate(() => {
    const active = document.activeElement;
    if (active instanceof HTMLElement && active !== document.body) active.blur();
    const looks: Record<string, unknown> = {};
    document
      .querySelectorAll('a[href], button, input, textarea, select, summary, [tabindex]')
      .forEach((el, i) => {
        el.setAttribute('data-focus-key', String(i));
        const s = getComputedStyle(el);
        let behind = 'rgb(255, 255, 255)';
        for (let p = el.parentElement; p; p = p.parentElement) {
          const bg = getComputedStyle(p).backgroundColor;
          if (!/^rgba\(.*,\s*0\)$|^transparent$/.test(bg)) {
            behind = bg;
            break;
          }
        }
        looks[String(i)] = {
          outlineStyle: s.outlineStyle,
          outlineWidth: s.outlineWidth,
          outlineColor: s.outlineColor,
          boxShadow: s.boxShadow,
          background: s.backgroundColor,
          behind,
        };
      });
    document.documentElement.setAttribute('data-unfocused-looks', JSON.stringify(looks));
  });
}

/** "rgb(1, 2, 3)" or "rgba(1, 2, 3, 0.5)" as #rrggbb, or null when fully transparent. */
function opaqueHex(colour: string): string | null {
  const m = /rgba?\((\d+),\s*(\d+),\s*(\d+)(?:,\s*([\d.]+))?\)/.exec(colour);
  if (!m || m[4] === '0' || colour === 'transparent') return null;
  return `#${[m[1], m[2], m[3]].map((c) => Number(c).toString(16).padStart(2, '0')).join('')}`;
}

/** How far apart two colours stand (WCAG contrast ratio); a transparent one counts as `behind`. */
function standsOut(colour: string, against: string, behind: string): boolean {
  const [a, b] = [opaqueHex(colour), opaqueHex(against) ?? opaqueHex(behind)];
  return a !== null && b !== null && contrastRatio(a, b) >= 3;
}

function shadows(boxShadow: string): string[] {
  return boxShadow === 'none' ? [] : boxShadow.split(/,(?![^(]*\))/).map((x) => x.trim());
}

/**
 * What shows focus, judged like WCAG's focus appearance: an outline, a new shadow or a new
 * background counts only when its colour has 3:1 against what it is drawn on (or replaces).
 */
function focusIndicator(before: Look | undefined, after: Look): string[] {
  const found: string[] = [];
  const { behind } = after;
  const outline = `${after.outlineStyle} ${after.outlineWidth} ${after.outlineColor}`;
  const outlineBefore =
    before && `${before.outlineStyle} ${before.outlineWidth} ${before.outlineColor}`;
  if (
    after.outlineStyle !== 'none' &&
    parseFloat(after.outlineWidth) >= 1 &&
    outline !== outlineBefore &&
    standsOut(after.outlineColor, behind, behind)
  ) {
    found.push(`outline ${outline}`);
  }
  const old = new Set(shadows(before?.boxShadow ?? 'none'));
  for (const shadow of shadows(after.boxShadow).filter((x) => !old.has(x))) {
    const against = shadow.includes('inset') ? after.background : behind;
    if (standsOut(shadow, against, behind)) found.push(`box-shadow ${shadow}`);
  }
  if (standsOut(after.background, before?.background ?? behind, behind)) {
    found.push(`background ${after.background}`);
  }
  return found;
}

/** The focused element and the ways its look shows focus; null when nothing has focus. */
export async function focusedStop(page: Page): Promise<FocusStop | null> {
  const raw = await page.evaluate(() => {
    const el = document.activeElement;
    if (!el || el === document.body || el === document.documentElement) return null;
    const looks = JSON.parse(
      document.documentElement.getAttribute('data-unfocused-looks') ?? '{}',
    ) as Record<string, { behind: string } | undefined>;
    const key = el.getAttribute('data-focus-key') ?? '';
    const s = getComputedStyle(el);
    const box = el.getBoundingClientRect();
    const text = (el.getAttribute('aria-label') ?? (el as HTMLElement).innerText ?? '').trim();
    return {
      key: Number(key === '' ? -1 : key),
      description: `${el.tagName.toLowerCase()}${el.id ? `#${el.id}` : ''}${text ? ` "${text.slice(0, 40)}"` : ''}`,
      isSkipLink: el.classList.contains('skip-link'),
      isMain: el.tagName === 'MAIN',
      rect: {
        top: box.top + window.scrollY,
        left: box.left + window.scrollX,
        bottom: box.bottom + window.scrollY,
        right: box.right + window.scrollX,
      },
      before: looks[key],
      after: {
        outlineStyle: s.outlineStyle,
        outlineWidth: s.outlineWidth,
        outlineColor: s.outlineColor,
        boxShadow: s.boxShadow,
        background: s.backgroundColor,
        behind: looks[key]?.behind ?? 'rgb(255, 255, 255)',
      },
    };
  });
  if (!raw) return null;
  const { before, after, ...stop } = raw;
  return { ...stop, indicator: focusIndicator(before as Look | undefined, after) };
}

/**
 * Presses Tab from the top of a freshly loaded page until focus leaves the page or comes back
 * round, or `stopAt` matches; answers the stops in order.
 */
export async function tabThrough(
  page: Page,
  stopAt?: (stop: FocusStop) => boolean,
): Promise<FocusStop[]> {
  const stops: FocusStop[] = [];
  for (let i = 0; i < 80; i += 1) {
    await page.keyboard.press('Tab');
    const stop = await focusedStop(page);
    if (!stop || stop.key === stops[0]?.key) return stops;
    stops.push(stop);
    if (stopAt?.(stop)) return stops;
  }
  throw new Error(`more than 80 Tab stops: ${stops.map((s) => s.description).join(', ')}`);
}

/**
 * Every stop shows a focus indicator, the skip link comes first, and the order follows the
 * page: each stop is below the previous one, to its right in the same row, or at the top of a
 * column to its right.
 */
export function assertFocusOrderAndLook(stops: FocusStop[], label: string): void {
  assert.ok(stops.length > 1, `Tab reaches the controls of ${label}`);
  assert.ok(
    stops[0]!.isSkipLink,
    `the skip link is the first Tab stop on ${label}, not ${stops[0]!.description}`,
  );
  const invisible = stops.filter((s) => s.indicator.length === 0).map((s) => s.description);
  assert.deepEqual(invisible, [], `Tab stops without a visible focus indicator on ${label}`);
  for (let i = 1; i < stops.length; i += 1) {
    const [a, b] = [stops[i - 1]!.rect, stops[i]!.rect];
    const sameRow = b.top < a.bottom - 1 && a.top < b.bottom - 1;
    const ok = sameRow ? b.left >= a.left - 1 : b.top >= a.top - 1 || b.left >= a.right - 1;
    assert.ok(
      ok,
      `Tab goes from ${stops[i - 1]!.description} (${Math.round(a.left)},${Math.round(a.top)}) back to ` +
        `${stops[i]!.description} (${Math.round(b.left)},${Math.round(b.top)}) on ${label}`,
    );
  }
}

/** Tabs through the whole page checking every stop (visible focus, visual order); focus ends outside the page. */
export async function walkWholePage(page: Page, label: string): Promise<FocusStop[]> {
  await page.waitForLoadState('load');
  await recordUnfocusedLooks(page);
  const stops = await tabThrough(page);
  assertFocusOrderAndLook(stops, label);
  return stops;
}

/** From outside the page, Tab until the stop described like `pattern` has focus. */
export async function tabTo(page: Page, pattern: RegExp): Promise<void> {
  const stops = await tabThrough(page, (s) => pattern.test(s.description));
  const last = stops.at(-1);
  assert.ok(
    last && pattern.test(last.description),
    `Tab reaches ${pattern}: ${stops.map((s) => s.description).join(', ')}`,
  );
}
