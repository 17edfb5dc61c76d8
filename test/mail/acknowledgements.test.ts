import assert from 'node:assert/strict';
import { withScope } from '../../src/db/scopes';
import { openTicketForCustomer } from '../../src/services/agent-tickets';
import { openTicketAsRequester } from '../../src/services/tickets';
import { makeTestApp, type TestApp } from '../helpers/app';
import { aRequester, aWorkspace, anAgent, rows } from '../helpers/fixtures';

/** "We have your ticket", for tickets opened in the portal signed in and by an agent for a customer. */
describe('the acknowledgement of a new ticket', () => {
  let t: TestApp;

  beforeEach(() => {
    t = makeTestApp({ env: { INBOUND_DOMAIN: 'in.example.test' } });
  });

  function mailContext() {
    const { templates, config } = t.deps;
    return { templates, secret: config.sessionSecret, config, now: t.clock.now() };
  }

  it('a signed-in requester’s portal ticket is acknowledged with its reference, portal page and a Reply-To', async () => {
    const acme = await aWorkspace('acme', { portal: true });
    const jo = await aRequester(acme, 'jo@example.com', 'Jo');
    await withScope(
      t.deps.db,
      { kind: 'requester', workspaceId: acme.id, requesterId: jo.id },
      (trx) =>
        openTicketAsRequester(trx, mailContext(), {
          workspace: acme,
          requesterId: jo.id,
          subject: 'Printer on fire',
          body: 'Help',
          at: t.clock.now(),
          language: 'en',
        }),
    );
    const [mail] = await t.deliverMail();
    assert.equal(mail!.to, 'jo@example.com');
    assert.equal(mail!.subject, 'We have your ticket ACME-1001: Printer on fire');
    assert.match(mail!.text, /http:\/\/acme\.localhost:3000\/tickets\/ACME-1001/);
    assert.match(mail!.text, /reply to this email/);
    assert.match(mail!.replyTo ?? '', /^reply\+[0-9a-f]{40}@in\.example\.test$/);
    assert.equal(mail!.autoSubmitted, 'auto-generated');
    assert.equal((await rows('select id from reply_addresses')).length, 1);
  });

  it('a ticket an agent opens for a customer mails the customer, with a Reply-To', async () => {
    const acme = await aWorkspace('acme', { portal: false });
    const agent = await anAgent(acme);
    await withScope(t.deps.db, { kind: 'agent', workspaceId: acme.id, userId: agent.id }, (trx) =>
      openTicketForCustomer(trx, mailContext(), {
        workspace: acme,
        email: 'kim@example.com',
        name: 'Kim',
        subject: 'Called about invoices',
        body: 'Notes from the call',
        at: t.clock.now(),
      }),
    );
    const [mail] = await t.deliverMail();
    assert.equal(mail!.to, 'kim@example.com');
    assert.doesNotMatch(mail!.text, /http/, 'the portal is off');
    assert.match(mail!.text, /ACME-1001/);
    assert.ok(mail!.replyTo);
  });
});
