import assert from 'node:assert/strict';
import { makeTestApp, type TestApp } from '../helpers/app';
import { Browser, csrfTokenOf } from '../helpers/client';
import { aWorkspace, tenantRows } from '../helpers/fixtures';
import { png } from '../helpers/sample-files';

const BOUNDARY = '----truncated';

/** A ticket form's fields, then a file part the body ends inside: no closing boundary. */
function cutOffInsideAFile(fields: Record<string, string>, file: Buffer): Buffer {
  const parts = Object.entries(fields).map(
    ([name, value]) =>
      `--${BOUNDARY}\r\nContent-Disposition: form-data; name="${name}"\r\n\r\n${value}\r\n`,
  );
  return Buffer.concat([
    Buffer.from(parts.join('')),
    Buffer.from(
      `--${BOUNDARY}\r\nContent-Disposition: form-data; name="attachments"; filename="a.png"\r\n` +
        'Content-Type: image/png\r\n\r\n',
    ),
    file.subarray(0, 40),
  ]);
}

/**
 * Found by the hostile-input fuzz: a multipart body that ends inside a file made busboy fail
 * that file's stream with no one listening, and the uncaught error ended the whole process.
 */
describe('a multipart body that ends inside a file', () => {
  let t: TestApp;
  let browser: Browser;

  beforeEach(async () => {
    t = makeTestApp();
    await aWorkspace('acme');
    browser = new Browser(t);
  });

  async function post(withToken: boolean): Promise<number> {
    const form = await browser.get('/tickets/new');
    const fields = {
      ...(withToken ? { _csrf: csrfTokenOf(form.text) } : {}),
      name: 'Sam',
      email: 'sam@example.com',
      subject: 'Cut off',
      description: 'The upload stopped half way.',
    };
    const res = await browser.agent
      .post('/tickets/new')
      .set('Host', 'acme.localhost')
      .set('Content-Type', `multipart/form-data; boundary=${BOUNDARY}`)
      .send(cutOffInsideAFile(fields, await png()))
      .redirects(0)
      .ok(() => true);
    return res.status;
  }

  for (const withToken of [true, false]) {
    it(`gets a 4xx, stores nothing and the server keeps serving (${withToken ? 'a form the CSRF check accepts' : 'no CSRF token'})`, async () => {
      const before = await tenantRows();
      const status = await post(withToken);
      assert.ok(status >= 400 && status < 500, `status ${status}`);
      assert.deepEqual(await tenantRows(), before);
      // An uncaught stream error would have ended the test process before this line.
      await new Promise((resolve) => setTimeout(resolve, 50));
      assert.equal((await browser.get('/tickets/new')).status, 200);
    });
  }
});
