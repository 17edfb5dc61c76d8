import { existsSync } from 'node:fs';
import path from 'node:path';

/**
 * The checkout's top folder (where package.json is), whether this file runs from `src/` through
 * tsx or compiled under `dist/src/`: views, public files and node_modules live there, not in dist.
 */
function findProjectRoot(start: string): string {
  for (let dir = start; ; dir = path.dirname(dir)) {
    if (existsSync(path.join(dir, 'package.json'))) return dir;
    if (dir === path.dirname(dir)) throw new Error(`no package.json above ${start}`);
  }
}

export const projectRoot = findProjectRoot(__dirname);
