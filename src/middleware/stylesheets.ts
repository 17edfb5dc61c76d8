import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import type { NextFunction, Request, Response } from 'express';

/**
 * The stylesheet as sent: comments and layout whitespace taken out. Every portal page's weight
 * counts its stylesheet (the 30 KB budget), and the comments that explain the rules are a quarter
 * of the file. Only what cannot change a rule goes: comments, runs of whitespace (to one space),
 * and the space around `{`, `}`, `;` and `,`. Spaces around `:`, `+`, `>` and the like are
 * kept, since in a selector (`.a :focus`) or calc() they carry meaning, and quoted strings are
 * left exactly as written.
 */
const STRING = /("(?:[^"\\\n]|\\.)*"|'(?:[^'\\\n]|\\.)*')/;

export function minifyCss(css: string): string {
  // Comments go first, but not what only looks like one inside a string.
  const uncommented = css.replace(
    new RegExp(`\\/\\*[\\s\\S]*?\\*\\/|${STRING.source}`, 'g'),
    (match, string: string | undefined) => string ?? '',
  );
  return uncommented
    .split(STRING)
    .map((part, index) =>
      // Odd parts are the strings the split kept.
      index % 2 === 1
        ? part
        : part
            .replace(/\s+/g, ' ')
            .replace(/\s*([{};])\s*/g, '$1')
            .replace(/\s*,\s*/g, ','),
    )
    .join('')
    .trim();
}

/**
 * Serves `public/<file>` minified, read once at start (the file ships with the code), with the
 * same caching as the other public files and an ETag of its content. Anything else falls through
 * to the static files.
 */
export function minifiedStylesheet(publicDirectory: string, file: string, maxAgeSeconds: number) {
  const body = minifyCss(readFileSync(path.join(publicDirectory, file), 'utf8'));
  const etag = `"${createHash('sha256').update(body).digest('base64url').slice(0, 27)}"`;
  const route = `/${file}`;
  return (req: Request, res: Response, next: NextFunction): void => {
    if (req.path !== route || (req.method !== 'GET' && req.method !== 'HEAD')) return next();
    res.setHeader('Cache-Control', `public, max-age=${maxAgeSeconds}`);
    res.setHeader('ETag', etag);
    res.type('css');
    if (req.fresh) {
      res.status(304).end();
      return;
    }
    res.send(body);
  };
}
