import assert from 'node:assert/strict';
import request from 'supertest';
import { makeTestApp } from '../helpers/app';
import { aWorkspace } from '../helpers/fixtures';
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
