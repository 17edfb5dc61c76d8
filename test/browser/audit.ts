import assert from 'node:assert/strict';
import type { Page } from 'playwright-core';
import {
  assertErrorLinksFocusFields,
  assertLightAndScriptFree,
  assertNoAxeViolations,
  assertReflows,
  assertStructure,
  assertUsableAt200Percent,
  assertValidHtml,
} from './checks';
import { writeOutput, type Traffic, type Transfer } from './harness';

/**
 * What one test file's journeys leave behind for the checks that run once at its end: the raw
 * HTML of every page (for the Nu Html Checker) and every page's weight.
 */
export class AuditLog {
  private readonly files: string[] = [];
  readonly weights: { page: string; bytes: number }[] = [];

  constructor(private readonly name: string) {}

  saveHtml(page: string, html: string): void {
    this.files.push(writeOutput(`html/${page.replace(/[^A-Za-z0-9-]+/g, '_')}.html`, html));
  }

  /** Writes the weights to test-output/weights/<name>.json and validates all the saved HTML. */
  finish(): void {
    const sorted = [...this.weights].sort((a, b) => b.bytes - a.bytes);
    writeOutput(`weights/${this.name}.json`, `${JSON.stringify(sorted, null, 2)}\n`);
    assertValidHtml(this.files.splice(0));
  }
}

/** Different pages must not share a title; one page may have several (with and without errors). */
export class Titles {
  private readonly owners = new Map<string, string>();

  add(page: string, title: string): void {
    const owner = this.owners.get(title);
    assert.ok(
      owner === undefined || owner === page,
      `"${title}" is the title of both ${owner} and ${page}`,
    );
    this.owners.set(title, page);
  }
}

export interface AuditOptions {
  /** Names this journey in file names and messages, e.g. "journey-js-off". */
  name: string;
  log: AuditLog;
  titles?: Titles;
  /** axe needs JavaScript in the page (it is injected with evaluate). */
  axe: boolean;
  /** The 320px reflow and 200% text checks. */
  layout: boolean;
  /** The language every page is in (`<html lang>`, the title's "Error:"); English by default. */
  lang?: string;
}

/**
 * Every check that holds for every portal page, run on the state a page is in now: structure,
 * unique title, script-free and light, compressed, error-summary links, and (by option) reflow,
 * 200% text and axe. The page's raw HTML is kept for the Nu Html Checker.
 */
export class PageAudit {
  readonly titles: Titles;

  constructor(
    private readonly page: Page,
    private readonly traffic: Traffic,
    private readonly options: AuditOptions,
  ) {
    this.titles = options.titles ?? new Titles();
  }

  /**
   * `pageName` identifies the page (titles must differ between pages), `state` what it shows.
   * Answers the document's transfer (status, size) and its subresources' for the caller's own
   * assertions.
   */
  async check(pageName: string, state = ''): Promise<Transfer & { resources: Transfer[] }> {
    const { page, options } = this;
    await page.waitForLoadState('load');
    const id = state ? `${pageName} (${state})` : pageName;
    const label = `${options.name}: ${id}`;
    const { html, document, resources } = await this.traffic.page();
    options.log.saveHtml(`${options.name}--${id}`, html);
    options.log.weights.push({
      page: `${options.name}: ${id}`,
      bytes: await assertLightAndScriptFree(page, { document, resources }, label),
    });
    this.titles.add(pageName, await assertStructure(page, label, options.lang));
    if (options.layout) {
      await assertReflows(page, label);
      await assertUsableAt200Percent(page, label);
    }
    if (options.axe) await assertNoAxeViolations(page, label);
    // Last: following the links moves focus and the URL's fragment.
    await assertErrorLinksFocusFields(page, label);
    return { ...document, resources };
  }
}
