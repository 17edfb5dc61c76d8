import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { projectRoot } from '../project-root';

/**
 * The message catalogues: `views/locales/<code>.json`, one file a language, read once at start.
 * A file is an object of sections whose leaves are ICU messages; keys are the dotted paths
 * ("portal.login.title"). Each file names its language in itself under `language.name` and its
 * direction under `language.dir`, so adding a language is adding a file and nothing else.
 */
export const cataloguesDirectory = path.join(projectRoot, 'views', 'locales');

export type Catalogue = ReadonlyMap<string, string>;

function flatten(prefix: string, value: unknown, into: Map<string, string>, file: string): void {
  if (typeof value === 'string') {
    into.set(prefix, value);
    return;
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw new Error(`${file}: ${prefix || 'the file'} must be a string or an object of them`);
  }
  for (const [key, child] of Object.entries(value)) {
    flatten(prefix ? `${prefix}.${key}` : key, child, into, file);
  }
}

export function readCatalogue(file: string): Catalogue {
  const messages = new Map<string, string>();
  flatten('', JSON.parse(readFileSync(file, 'utf8')) as unknown, messages, file);
  return messages;
}

/** Every catalogue in the folder, by language code (the file's name), English first. */
export function readCatalogues(directory = cataloguesDirectory): Map<string, Catalogue> {
  const codes = readdirSync(directory)
    .filter((name) => name.endsWith('.json'))
    .map((name) => name.slice(0, -'.json'.length))
    .sort((a, b) => (a === 'en' ? -1 : b === 'en' ? 1 : a.localeCompare(b)));
  return new Map(codes.map((code) => [code, readCatalogue(path.join(directory, `${code}.json`))]));
}
