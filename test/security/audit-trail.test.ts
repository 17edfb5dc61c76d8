import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { withScope, type Scope } from '../../src/db/scopes';
import * as auditEvents from '../../src/models/audit-events';
import type { User } from '../../src/models/users';
import type { Workspace } from '../../src/models/workspaces';
import { hashPassword } from '../../src/services/passwords';
import { makeTestApp } from '../helpers/app';
import { Browser, signInLinkOf } from '../helpers/client';
import { testDatabase } from '../helpers/database';
import { anAgent, aRequester, aWorkspace, rows } from '../helpers/fixtures';

const PASSWORD = 'correct horse battery staple';
const NEW_PASSWORD = 'another long password for grace';

describe('audit trail: what it holds and who may read it', () => {
  it('after a whole sign-in flow holds no token, token hash, password or password hash', async function () {
    this.timeout(20_000);
    const t = makeTestApp();
    const acme = await aWorkspace('acme');
    await anAgent(acme, {
      email: 'ada@acme.test',
      role: 'admin',
      passwordHash: await hashPassword(PASSWORD),
    });

    const customer = new Browser(t);
    await customer.submit('/tickets/login', '/tickets/login', { email: 'jo@example.com' });
    const [mail] = await t.deliverMail();
    const link = new URL(signInLinkOf(mail!.text));
    assert.equal((await customer.submit(link.pathname, link.pathname)).status, 303);
    const token = link.pathname.split('/').pop()!;

    const admin = new Browser(t);
    await admin.signInAgent('ada@acme.test', 'a wrong password typed');
    await admin.signInAgent('ada@acme.test', PASSWORD);
    const added = await admin.submit('/admin/users', '/admin/users', {
      name: 'Grace',
      email: 'grace@acme.test',
      role: 'agent',
      password: NEW_PASSWORD,
    });
    assert.equal(added.status, 303);

    const trail = (await rows<{ row: string }>('select a::text as row from audit_events a'))
      .map((r) => r.row)
      .join('\n');
    assert.deepEqual(
      (await rows<{ action: string }>('select action from audit_events order by action')).map(
        (r) => r.action,
      ),
      [
        'agent.signin_failed',
        'agent.signin_succeeded',
        'portal.signin_link_requested',
        'portal.signin_link_used',
        'user.created',
      ],
    );
    const hash = createHash('sha256').update(token).digest();
    const hashes = (await rows<{ h: string }>('select password_hash as h from users')).map(
      (r) => r.h,
    );
    assert.equal(hashes.length, 2);
    const secrets = [
      token,
      hash.toString('hex'),
      hash.toString('base64'),
      hash.toString('base64url'),
      PASSWORD,
      'a wrong password typed',
      NEW_PASSWORD,
      ...hashes,
      ...hashes.map((h) => h.split('$').pop()!),
    ];
    for (const secret of secrets) assert.ok(!trail.includes(secret), `no ${secret.slice(0, 8)}…`);
  });

  describe('row-level security', () => {
    let acme: Workspace;
    let globex: Workspace;
    let admin: User;
    let agent: User;
    let globexAdmin: User;

    const read = (scope: Scope) =>
      withScope(testDatabase().db, scope, (trx) =>
        trx('audit_events').select<{ workspace_id: string }[]>('workspace_id'),
      );
    const agentScope = (workspace: Workspace, user: User): Scope => ({
      kind: 'agent',
      workspaceId: workspace.id,
      userId: user.id,
    });

    beforeEach(async () => {
      acme = await aWorkspace('acme');
      globex = await aWorkspace('globex');
      admin = await anAgent(acme, { email: 'ada@acme.test', role: 'admin' });
      agent = await anAgent(acme, { email: 'alex@acme.test', role: 'agent' });
      globexAdmin = await anAgent(globex, { email: 'boss@globex.test', role: 'admin' });
      await withScope(testDatabase().db, { kind: 'system' }, async (trx) => {
        for (const workspace of [acme, globex]) {
          await auditEvents.insert(trx, {
            workspaceId: workspace.id,
            occurredAt: new Date(),
            action: 'logo.removed',
            actor: { kind: 'system' },
            ip: null,
          });
        }
      });
    });

    it('an admin of the workspace reads its events, and only its events', async () => {
      assert.deepEqual(await read(agentScope(acme, admin)), [{ workspace_id: acme.id }]);
      assert.deepEqual(await read(agentScope(globex, globexAdmin)), [{ workspace_id: globex.id }]);
    });

    it('an agent who is not an admin reads nothing, even without a where clause', async () => {
      assert.deepEqual(await read(agentScope(acme, agent)), []);
    });

    it('another workspace’s admin reads nothing of it, even claiming its workspace', async () => {
      assert.deepEqual(await read(agentScope(acme, globexAdmin)), []);
    });

    it('an admin demoted to agent reads nothing from the next query on', async () => {
      await rows("update users set role = 'agent' where id = ?", [admin.id]);
      assert.deepEqual(await read(agentScope(acme, admin)), []);
    });

    it('portal scopes may record but never read; no scope reads nothing', async () => {
      const jo = await aRequester(acme, 'jo@example.com');
      const scopes: Scope[] = [
        { kind: 'signin', workspaceId: acme.id },
        { kind: 'requester', workspaceId: acme.id, requesterId: jo.id },
        { kind: 'visitor', workspaceId: acme.id, ticketIds: [] },
      ];
      for (const scope of scopes) {
        await withScope(testDatabase().db, scope, (trx) =>
          auditEvents.insert(trx, {
            workspaceId: acme.id,
            occurredAt: new Date(),
            action: 'portal.signin_link_requested',
            actor: { kind: 'visitor', label: 'jo@example.com' },
            ip: '192.0.2.1',
          }),
        );
        assert.deepEqual(await read(scope), [], scope.kind);
      }
      assert.deepEqual(
        await testDatabase().db.transaction((trx) => trx('audit_events').select()),
        [],
      );
      assert.equal((await read(agentScope(acme, admin))).length, 4);
    });

    it('nobody records an event for another workspace', async () => {
      await assert.rejects(
        withScope(testDatabase().db, agentScope(acme, admin), (trx) =>
          auditEvents.insert(trx, {
            workspaceId: globex.id,
            occurredAt: new Date(),
            action: 'logo.removed',
            actor: { kind: 'user', id: admin.id, label: admin.email },
            ip: null,
          }),
        ),
        /row-level security/,
      );
    });

    it('the trail is append-only for the app: an admin can neither change nor delete an event', async () => {
      const db = testDatabase().db;
      // Erasure may redact an address (see test/admin/erasure.test.ts); nothing else may change.
      await assert.rejects(
        withScope(db, agentScope(acme, admin), (trx) =>
          trx('audit_events').update({ actor_label: 'someone else' }),
        ),
        /audit events can only be redacted/,
      );
      const deleted = await withScope(db, agentScope(acme, admin), (trx) =>
        trx('audit_events').delete(),
      );
      assert.equal(deleted, 0);
      assert.equal((await rows('select 1 from audit_events')).length, 2);
      assert.equal(
        (await rows(`select 1 from audit_events where actor_label = 'someone else'`)).length,
        0,
      );
    });
  });
});
