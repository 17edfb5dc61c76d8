/// <reference lib="dom" />
// Functions passed to page.evaluate run in the browser, hence the DOM types in this file.
import assert from 'node:assert/strict';
import { AxeBuilder } from '@axe-core/playwright';
import type { Page } from 'playwright-core';
import { writeOutput } from './harness';

export const AXE_TAGS = ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'wcag22aa'];

/** Zero axe violations; the message names each rule and where it fired. */
export async function assertNoAxeViolations(page: Page, label: string): Promise<void> {
  const results = await new AxeBuilder({ page }).withTags(AXE_TAGS).analyze();
  const found = results.violations.map(
    (v) => `${v.id} (${v.impact ?? ''}): ${v.help} at ${v.nodes.map((n) => n.target.join(' ')).join(', ')}`,
  );
  assert.deepEqual(found, [], `axe on ${label}`);
}

/**
 * One h1, a title (prefixed "Error: " exactly when an error summary shows), lang on <html>, and
 * the header/main/footer landmarks. Returns the title, for the uniqueness check.
 */
export async function assertStructure(page: Page, label: string): Promise<string> {
  const facts = await page.evaluate(() => ({
    h1: document.querySelectorAll('h1').length,
    title: document.title,
    lang: document.documentElement.getAttribute('lang'),
    header: document.querySelectorAll('header').length,
    main: document.querySelectorAll('main').length,
    footer: document.querySelectorAll('footer').length,
    errorSummary: document.querySelectorAll('.error-summary').length,
  }));
  assert.equal(facts.h1, 1, `one h1 on ${label}`);
  assert.ok(facts.title.trim().length > 0, `a title on ${label}`);
  assert.equal(facts.lang, 'en', `lang on ${label}`);
  assert.ok(facts.header >= 1 && facts.main === 1 && facts.footer >= 1, `landmarks on ${label}`);
  assert.equal(facts.title.startsWith('Error: '), facts.errorSummary > 0, `"Error: " title prefix on ${label}`);
  return facts.title;
}

/** At 320 CSS pixels nothing scrolls sideways. */
export async function assertReflows(page: Page, label: string): Promise<void> {
  const original = page.viewportSize() ?? { width: 1280, height: 900 };
  await page.setViewportSize({ width: 320, height: 640 });
  const width = await page.evaluate(() => document.documentElement.scrollWidth);
  await page.setViewportSize(original);
  assert.ok(width <= 320, `${label} is ${width}px wide at a 320px viewport`);
}

/** With the root font size doubled (200% text), forms stay usable: nothing overflows, controls stay visible. */
export async function assertUsableAt200Percent(page: Page, label: string): Promise<void> {
  const facts = await page.evaluate(() => {
    const root = document.documentElement;
    const before = root.style.fontSize;
    root.style.fontSize = '200%';
    const controls = [...document.querySelectorAll('main input:not([type=hidden]), main textarea, main select, main button')];
    const hidden = controls.filter((c) => {
      const box = c.getBoundingClientRect();
      return !(c.closest('.hp')) && (box.width === 0 || box.height === 0 || box.right > root.clientWidth + 1);
    }).length;
    const width = root.scrollWidth;
    const client = root.clientWidth;
    root.style.fontSize = before;
    return { hidden, width, client };
  });
  assert.equal(facts.hidden, 0, `form controls cut off at 200% text on ${label}`);
  assert.ok(facts.width <= facts.client, `${label} overflows at 200% text (${facts.width} > ${facts.client})`);
}

export async function screenshot(page: Page, name: string): Promise<void> {
  const original = page.viewportSize() ?? { width: 1280, height: 900 };
  writeOutput(`screenshots/${name}-1280.png`, await page.screenshot({ fullPage: true }));
  await page.setViewportSize({ width: 320, height: 640 });
  writeOutput(`screenshots/${name}-320.png`, await page.screenshot({ fullPage: true }));
  await page.setViewportSize(original);
}
