import assert from 'node:assert/strict';
import { closeInstance, makeTestApp } from '../helpers/app';
import { $, Browser } from '../helpers/client';
import { aWorkspace, anAgentWithPassword } from '../helpers/fixtures';

const PASSWORD = 'correct horse battery staple';

/**
 * Nothing about a workspace is cached in a process: an instance reads the row in the statement
 * that opens its page transaction (or, for a request without a session, in a statement of its
 * own), so a change made through one instance is seen by the very next request to any other.
 * The visitor here has no session, and the second instance has pools of its own.
 */
describe('two instances on one database', () => {
  it('a portal switch and a branding change made on one are seen by the next request on the other', async () => {
    const one = makeTestApp();
    const two = makeTestApp({ ownPool: true });
    try {
      const acme = await aWorkspace('acme');
      await anAgentWithPassword(acme, {
        email: 'ada@acme.test',
        password: PASSWORD,
        role: 'admin',
      });
      const admin = new Browser(one);
      await admin.signInAgent('ada@acme.test', PASSWORD);
      const visitor = new Browser(two);
      assert.equal((await visitor.get('/tickets')).status, 200);

      await admin.submit('/admin/settings/modules', '/admin/settings/modules', {});
      assert.equal(
        (await visitor.get('/tickets')).status,
        404,
        'off on the other instance at once',
      );
      await admin.submit('/admin/settings/modules', '/admin/settings/modules', { portal: 'on' });
      assert.equal((await visitor.get('/tickets')).status, 200, 'on again at once');

      await admin.submit('/admin/settings/branding', '/admin/settings/branding', {
        name: 'Acme Renamed',
        colourPicker: '#663399',
        colour: '',
      });
      const page = $((await visitor.get('/tickets')).text);
      assert.equal(page('.site-name').text(), 'Acme Renamed');
      const css = await visitor.get(page('link[href^="/tickets/brand/"]').attr('href')!);
      assert.match(css.text, /#663399/);
    } finally {
      await closeInstance(two);
    }
  });
});
