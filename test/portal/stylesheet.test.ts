import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { makeTestApp, type TestApp } from '../helpers/app';
import { Browser } from '../helpers/client';
import { minifyCss } from '../../src/middleware/stylesheets';
import { projectRoot } from '../../src/project-root';

describe('the stylesheet as sent', () => {
  let t: TestApp;
  const source = readFileSync(path.join(projectRoot, 'public/css/app.css'), 'utf8');

  beforeEach(() => {
    t = makeTestApp();
  });

  it('comes without comments or layout whitespace, a fifth lighter, every rule kept', async () => {
    const res = await new Browser(t).get('/assets/css/app.css');
    assert.equal(res.status, 200);
    assert.match(String(res.headers['content-type']), /^text\/css/);
    assert.match(String(res.headers['cache-control']), /max-age=86400/);
    const sent = res.text;
    assert.ok(!sent.includes('/*'), 'no comments');
    assert.ok(
      Buffer.byteLength(sent) < Buffer.byteLength(source) * 0.8,
      'at least a fifth lighter',
    );
    // Every declaration of the file, whitespace aside, is in what is sent.
    const declarations = source
      .replace(/\/\*[\s\S]*?\*\//g, '')
      .split(/[{};]/)
      .map((part) => part.replace(/\s+/g, ' ').replace(/,\s+/g, ',').trim())
      .filter((part) => /^[a-z-]+ ?:/.test(part));
    assert.ok(declarations.length > 100);
    for (const declaration of declarations) assert.ok(sent.includes(declaration), declaration);
  });

  it('answers 304 to a browser that has it already', async () => {
    const browser = new Browser(t);
    const first = await browser.get('/assets/css/app.css');
    const etag = String(first.headers.etag);
    const again = await browser.agent
      .get('/assets/css/app.css')
      .set('Host', 'acme.localhost')
      .set('If-None-Match', etag);
    assert.equal(again.status, 304);
  });

  it('keeps the spaces that mean something: descendant selectors, calc() and strings', () => {
    assert.equal(
      minifyCss(
        '/* why */\n.a :focus ,\n.b > .c {\n  margin: calc(1px + 2px);\n  content: "a  /* b */  c";\n}\n',
      ),
      '.a :focus,.b > .c{margin: calc(1px + 2px);content: "a  /* b */  c";}',
    );
  });
});
