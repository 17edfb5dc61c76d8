import assert from 'node:assert/strict';
import request from 'supertest';
import { makeTestApp } from '../helpers/app';
import { Browser } from '../helpers/client';
import { aRequester, aWorkspace, rows } from '../helpers/fixtures';
import { noSession, regenerateSession, saveSession } from '../../src/middleware/sessions';
import type { Request } from 'express';

describe('a read without a session cookie', () => {
  it('reads an empty session that refuses to be started, saved or changed', async () => {
    const req = { session: noSession } as Request;
    assert.equal(req.session.requesterId, undefined);
    assert.equal(req.session.workspaceId, undefined);
    assert.ok(Object.isFrozen(noSession));
    await assert.rejects(saveSession(req), /cannot start or change a session/);
    await assert.rejects(regenerateSession(req), /cannot start or change a session/);
    assert.throws(() => {
      (req.session as { workspaceId?: string }).workspaceId = 'x';
    }, TypeError);
  });

  it('still answers every way it did: pages, HEAD, and a cookie that only looks like the session’s', async () => {
    const t = makeTestApp();
    await aWorkspace('acme');
    const get = (path: string) => request(t.app).get(path).set('Host', 'acme.localhost');
    assert.equal((await get('/tickets/login')).status, 200);
    assert.equal(
      (await request(t.app).head('/tickets/login').set('Host', 'acme.localhost')).status,
      200,
    );
    // A garbled or unsigned session cookie is express-session's to read (and to ignore), as before.
    for (const cookie of [
      'portal_sid=garbage',
      'portal_sid =s%3Aabc.def',
      'other=1; portal_sid=x',
    ]) {
      const res = await get('/tickets/login').set('Cookie', cookie);
      assert.equal(res.status, 200, cookie);
      assert.match(res.text, /name="email"/);
    }
  });
});

describe('a write without a session cookie', () => {
  const sessionRows = async () =>
    (await rows<{ n: number }>('select count(*)::int as n from portal_sessions'))[0]!.n;

  it('starts no session unless its handler asks for a fresh one, and then a real one', async () => {
    const t = makeTestApp();
    const acme = await aWorkspace('acme');
    await aRequester(acme, 'jo@example.com');
    const browser = new Browser(t);

    // A sign-in request and a sign-out: no session before, none after, no row, no cookie.
    const asked = await browser.submit('/tickets/login', '/tickets/login', {
      email: 'jo@example.com',
    });
    assert.equal(asked.status, 200);
    assert.match(asked.text, /jo@example\.com/);
    assert.equal((await t.deliverMail()).length, 1);
    const page = await browser.get('/tickets/login');
    const signedOut = await browser.post('/tickets/logout', {
      _csrf: /name="_csrf" value="([^"]+)"/.exec(page.text)![1]!,
    });
    assert.equal(signedOut.status, 303);
    assert.ok(!String(asked.headers['set-cookie'] ?? '').includes('portal_sid'));
    // Signing out only ever clears the cookie.
    assert.match(
      String(signedOut.headers['set-cookie']),
      /^portal_sid=; Path=\/tickets; Expires=Thu, 01 Jan 1970/,
    );
    assert.equal(await sessionRows(), 0);

    // An anonymous ticket asks for one: the answer carries its cookie, the row is saved, and
    // the session reaches the ticket.
    const opened = await browser.submit('/tickets/new', '/tickets/new', {
      name: 'Sam Visitor',
      email: 'sam@example.com',
      subject: 'Cannot download my invoice',
      description: 'The download button does nothing.',
    });
    assert.equal(opened.status, 303);
    assert.match(String(opened.headers['set-cookie']), /portal_sid=/);
    assert.equal(await sessionRows(), 1);
    const ticket = await browser.get(opened.headers.location!);
    assert.equal(ticket.status, 200);
    assert.match(ticket.text, /Cannot download my invoice/);
  });
});
