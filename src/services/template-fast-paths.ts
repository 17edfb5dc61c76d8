import nunjucksLib from 'nunjucks/src/lib';
import { Frame } from 'nunjucks/src/runtime';
import { BoundedCache } from './bounded-cache';

/**
 * Faster paths through two of Nunjucks' hottest runtime functions, with the same results. A
 * `node --cpu-prof` of the ticket list put a quarter of its template's time in these two:
 *
 * - Every `{{ value }}` is escaped by a `replace` with a callback, which is slow even when there
 *   is nothing to escape, as in almost every reference, name and date. Test first, then replace.
 * - Every variable a template sets splits its name on "." (for names like "loop.index"): eight
 *   times a row in a `for` loop. The split is kept per name; names come from compiled templates,
 *   so they are few, and the map is bounded anyway.
 *
 * Applied once, when the first template environment is made; `test/performance/template-fast-paths.test.ts`
 * holds them to Nunjucks' own results.
 */

// Nunjucks' own set: lib.escape's regular expression, without the global flag (no lastIndex).
const needsEscaping = /[&"'<>\\]/;
const originalEscape = nunjucksLib.escape;
const originalSet = Frame.prototype.set;
const splitNames = new BoundedCache(1000, (name: string) => name.split('.'));

function escape(value: string): string {
  return needsEscaping.test(value) ? originalEscape(value) : value;
}

function set(this: Frame, name: string, value: unknown, resolveUp?: boolean): void {
  // Setting up through the frames (`{% set %}` inside a block) is rarer: Nunjucks' own way.
  if (resolveUp) {
    originalSet.call(this, name, value, resolveUp);
    return;
  }
  const parts = splitNames.get(name);
  let target = this.variables;
  const last = parts.length - 1;
  for (let i = 0; i < last; i += 1) {
    const id = parts[i] as string;
    target[id] ||= {};
    target = target[id] as Record<string, unknown>;
  }
  target[parts[last] as string] = value;
}

let applied = false;

export function applyTemplateFastPaths(): void {
  if (applied) return;
  applied = true;
  nunjucksLib.escape = escape;
  Frame.prototype.set = set;
}

/** Nunjucks' own escape, for the test that compares the two. */
export const nunjucksEscape = originalEscape;
