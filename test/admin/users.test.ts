import assert from 'node:assert/strict';
import { makeTestApp, type TestApp } from '../helpers/app';
import { $, Browser, csrfTokenOf } from '../helpers/client';
import { anAgent, aWorkspace, rows } from '../helpers/fixtures';
import type { Workspace } from '../../src/models/workspaces';
import { hashPassword, verifyPassword } from '../../src/services/passwords';

const PASSWORD = 'a long enough password';
const USERS = '/admin/users';

interface UserRow {
  workspace_id: string;
  email: string;
  name: string;
  role: string;
  password_hash: string;
}

function usersRows(): Promise<UserRow[]> {
  return rows<UserRow>(
    'select workspace_id, email, name, role, password_hash from users order by email',
  );
}

describe('agent app users', () => {
  let t: TestApp;
  let workspace: Workspace;
  let passwordHash: string;

  before(async () => {
    passwordHash = await hashPassword(PASSWORD);
  });

  beforeEach(async () => {
    t = makeTestApp();
    workspace = await aWorkspace('acme');
  });

  async function signedIn(role: 'admin' | 'agent', email = `${role}@acme.test`): Promise<Browser> {
    await anAgent(workspace, {
      email,
      name: role === 'admin' ? 'Ada Admin' : 'Alex Agent',
      role,
      passwordHash,
    });
    const browser = new Browser(t);
    const res = await browser.signInAgent(email, PASSWORD);
    assert.equal(res.status, 303, 'signed in');
    return browser;
  }

  const newUser = {
    name: 'Sam Smith',
    email: 'sam@acme.test',
    role: 'agent',
    password: 'twelve chars',
  };

  function errorOf(html: string, field: string): string {
    const page = $(html);
    assert.match(page('title').text(), /^Error: /);
    const message = page(`#${field}-error`).text().replace('Error:', '').trim();
    assert.ok(
      page('.error-summary a')
        .toArray()
        .some((a) => page(a).attr('href') === `#${field}` && page(a).text().trim() === message),
      'the same words in the summary, linking to the field',
    );
    return message;
  }

  describe('who may use it', () => {
    it('sends a signed-out visitor to the sign-in page, for GET and POST alike', async () => {
      const browser = new Browser(t);
      const get = await browser.get(USERS);
      assert.equal(get.status, 303);
      assert.equal(get.headers.location, '/admin/login');
      const post = await browser.submit('/admin/login', USERS, newUser);
      assert.equal(post.status, 303);
      assert.equal(post.headers.location, '/admin/login');
      assert.equal((await usersRows()).length, 0);
    });

    it('refuses an agent with the readable 403 page on GET and POST, and adds nobody', async () => {
      const agent = await signedIn('agent');
      const inbox = await agent.get('/admin/tickets');
      assert.equal($(inbox.text)(`a[href="${USERS}"]`).length, 0, 'no Users link for agents');
      const get = await agent.get(USERS);
      assert.equal(get.status, 403);
      assert.equal($(get.text)('h1').text().trim(), 'You cannot do that here');
      const post = await agent.post(USERS, {
        _csrf: csrfTokenOf(inbox.text),
        ...newUser,
        role: 'admin',
      });
      assert.equal(post.status, 403);
      assert.deepEqual(
        (await usersRows()).map((u) => u.email),
        ['agent@acme.test'],
      );
    });

    it('needs the CSRF token to add a user', async () => {
      const admin = await signedIn('admin');
      for (const form of [newUser, { ...newUser, _csrf: 'not-the-token' }]) {
        const res = await admin.post(USERS, form);
        assert.equal(res.status, 403);
        assert.equal($(res.text)('h1').text().trim(), 'This form has expired');
      }
      assert.equal((await usersRows()).length, 1);
    });
  });

  it('lists the workspace’s users with name, email and role, and not those of other workspaces', async () => {
    const other = await aWorkspace('other');
    await anAgent(other, { email: 'stranger@other.test', name: 'Stranger' });
    await anAgent(workspace, { email: 'zoe@acme.test', name: 'Zoe Agent', role: 'agent' });
    const admin = await signedIn('admin');
    const res = await admin.get(USERS);
    assert.equal(res.status, 200);
    const page = $(res.text);
    assert.equal(page('h1').text().trim(), 'Users');
    assert.equal(page('nav[aria-label="Agent app"] a[aria-current=page]').text(), 'Users');
    assert.deepEqual(
      page('table thead th')
        .toArray()
        .map((th) => page(th).text().trim()),
      ['Name', 'Email address', 'Role'],
    );
    const table = page('table tbody tr')
      .toArray()
      .map((tr) =>
        page(tr)
          .find('td')
          .toArray()
          .map((td) => page(td).text().trim()),
      );
    assert.deepEqual(table, [
      ['Ada Admin (you)', 'admin@acme.test', 'Admin'],
      ['Zoe Agent', 'zoe@acme.test', 'Agent'],
    ]);
  });

  it('shows the add form: labelled fields, a role radio group with a legend, a password field', async () => {
    const admin = await signedIn('admin');
    const page = $((await admin.get(USERS)).text);
    const form = page(`form[action="${USERS}"]`);
    assert.equal(form.find('label[for=name]').text().trim(), 'Name');
    assert.equal(form.find('input#email[type=email]').length, 1);
    assert.equal(form.find('fieldset legend').text().trim(), 'Role');
    assert.deepEqual(
      form
        .find('input[type=radio][name=role]')
        .toArray()
        .map((r) => page(r).val()),
      ['admin', 'agent'],
    );
    assert.equal(form.find('input[type=radio]:checked').length, 0, 'no role chosen for them');
    assert.equal(form.find('input#password[type=password]').attr('autocomplete'), 'new-password');
  });

  it('adds a user with a hashed password who can then sign in, and says so after the redirect', async () => {
    const admin = await signedIn('admin');
    const res = await admin.submit(USERS, USERS, {
      ...newUser,
      email: ' Sam@Acme.TEST ',
      role: 'admin',
    });
    assert.equal(res.status, 303);
    assert.equal(res.headers.location, USERS);
    const page = $((await admin.get(USERS)).text);
    assert.match(page('.panel-success[role=status]').text(), /User added/);
    assert.ok(
      page('td')
        .toArray()
        .some((td) => page(td).text().trim() === 'sam@acme.test'),
    );

    const sam = (await usersRows()).find((u) => u.email === 'sam@acme.test')!;
    assert.equal(sam.workspace_id, workspace.id);
    assert.equal(sam.name, 'Sam Smith');
    assert.equal(sam.role, 'admin');
    assert.match(sam.password_hash, /^scrypt\$/);
    assert.ok(!sam.password_hash.includes(newUser.password));
    assert.ok(await verifyPassword(newUser.password, sam.password_hash));

    const browser = new Browser(t);
    assert.equal((await browser.signInAgent('sam@acme.test', newUser.password)).status, 303);
    assert.equal((await browser.get(USERS)).status, 200, 'an admin role reaches user management');
  });

  it('refuses an address that already has an account in this workspace, in any case of letters', async () => {
    await anAgent(workspace, { email: 'sam@acme.test', name: 'The first Sam' });
    const admin = await signedIn('admin');
    const before = await usersRows();
    const res = await admin.submit(USERS, USERS, { ...newUser, email: 'SAM@acme.test' });
    assert.equal(res.status, 422);
    assert.equal(errorOf(res.text, 'email'), 'A user with this email address already exists');
    const page = $(res.text);
    assert.equal(page('#name').val(), 'Sam Smith', 'what was typed is kept');
    assert.equal(page('#email').val(), 'SAM@acme.test');
    assert.equal(page('input[name=role][value=agent]').attr('checked'), 'checked');
    assert.equal(page('#password').val(), '', 'the password is not sent back');
    assert.deepEqual(await usersRows(), before);
  });

  it('allows an address that has an account in another workspace only', async () => {
    const other = await aWorkspace('other');
    await anAgent(other, { email: 'sam@acme.test', name: 'Sam elsewhere' });
    const admin = await signedIn('admin');
    const res = await admin.submit(USERS, USERS, newUser);
    assert.equal(res.status, 303);
    const sams = (await usersRows()).filter((u) => u.email === 'sam@acme.test');
    assert.deepEqual(sams.map((u) => u.workspace_id).sort(), [workspace.id, other.id].sort());
  });

  it('refuses a password shorter than 12 characters, and a missing one', async () => {
    const admin = await signedIn('admin');
    const short = await admin.submit(USERS, USERS, { ...newUser, password: 'eleven char' });
    assert.equal(short.status, 422);
    assert.equal(errorOf(short.text, 'password'), 'The password must be at least 12 characters');
    const missing = await admin.submit(USERS, USERS, { ...newUser, password: '' });
    assert.equal(missing.status, 422);
    assert.equal(errorOf(missing.text, 'password'), 'Enter an initial password');
    assert.equal((await usersRows()).length, 1);
  });

  it('refuses malformed email addresses', async () => {
    const admin = await signedIn('admin');
    for (const email of [
      'sam',
      'sam@',
      'sam@acme',
      'Sam <sam@acme.test>',
      'a@b.test, c@d.test',
      'sam @acme.test',
    ]) {
      const res = await admin.submit(USERS, USERS, { ...newUser, email });
      assert.equal(res.status, 422, email);
      assert.equal(
        errorOf(res.text, 'email'),
        'Enter an email address in the correct format, like name@example.com',
      );
    }
    const blank = await admin.submit(USERS, USERS, { ...newUser, email: ' ' });
    assert.equal(errorOf(blank.text, 'email'), 'Enter their email address');
    assert.equal((await usersRows()).length, 1);
  });

  it('refuses a missing name and a missing or unknown role, listing every problem', async () => {
    const admin = await signedIn('admin');
    const res = await admin.submit(USERS, USERS, {
      name: '',
      email: 'sam@acme.test',
      role: 'owner',
      password: 'short',
    });
    assert.equal(res.status, 422);
    assert.equal(errorOf(res.text, 'name'), 'Enter their name');
    assert.equal(errorOf(res.text, 'role'), 'Select a role');
    assert.equal(errorOf(res.text, 'password'), 'The password must be at least 12 characters');
    const page = $(res.text);
    assert.deepEqual(
      page('.error-summary a')
        .toArray()
        .map((a) => page(a).attr('href')),
      ['#name', '#role', '#password'],
      'in the order of the form',
    );
    assert.equal(
      page('#role').attr('type'),
      'radio',
      'the summary link reaches the first radio button',
    );
    const none = await admin.submit(USERS, USERS, { ...newUser, role: '' });
    assert.equal(none.status, 422);
    assert.equal(errorOf(none.text, 'role'), 'Select a role');
    assert.equal((await usersRows()).length, 1);
  });
});
