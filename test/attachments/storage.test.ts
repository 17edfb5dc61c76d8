import assert from 'node:assert/strict';
import { buffer } from 'node:stream/consumers';
import { loadConfig, type AttachmentLimits } from '../../src/config';
import { withScope, type Scope } from '../../src/db/scopes';
import * as attachments from '../../src/models/attachments';
import * as messages from '../../src/models/messages';
import type { Requester } from '../../src/models/requesters';
import type { Workspace } from '../../src/models/workspaces';
import { CHUNK_BYTES } from '../../src/services/attachment-store';
import {
  attachmentStore,
  saveBufferedAttachments,
  type BufferedFile,
} from '../../src/services/attachments';
import { testDatabase } from '../helpers/database';
import {
  aRequester,
  aTicket,
  aWorkspace,
  anAgent,
  rows,
  type TicketFixture,
} from '../helpers/fixtures';
import { allowedSamples, disguisedSamples, pdf } from '../helpers/sample-files';

// The allowed types as every refusal names them (files.refused.type in the catalogues).
const ALLOWED_TYPES_TEXT =
  'PNG, JPEG, GIF, WebP, PDF, plain text, CSV, Word (.docx), Excel (.xlsx) or PowerPoint (.pptx)';

const limits: AttachmentLimits = loadConfig({
  NODE_ENV: 'test',
  SESSION_SECRET: 'x'.repeat(32),
}).attachments;

describe('attachment storage', () => {
  let acme: Workspace;
  let jo: Requester;
  let sam: Requester;
  let ticket: TicketFixture;
  let joMessage: string;
  let internalNote: string;

  const db = () => testDatabase().db;
  const system: Scope = { kind: 'system' };
  const joScope = (): Scope => ({ kind: 'requester', workspaceId: acme.id, requesterId: jo.id });
  const samScope = (): Scope => ({ kind: 'requester', workspaceId: acme.id, requesterId: sam.id });

  async function aMessage(internal: boolean): Promise<string> {
    const agent = await anAgent(acme, { email: `agent-${Math.random()}@acme.test` });
    return withScope(db(), system, async (trx) => {
      const message = await messages.insert(trx, {
        workspaceId: acme.id,
        ticketId: ticket.id,
        author: internal
          ? { kind: 'agent', userId: agent.id, name: agent.name }
          : { kind: 'requester', requesterId: jo.id, name: 'Jo' },
        body: internal ? 'Internal: check the invoice' : 'Here is the invoice',
        internal,
        at: new Date(),
      });
      return message.id;
    });
  }

  function save(scope: Scope, messageId: string, files: BufferedFile[], ticketId = ticket.id) {
    return withScope(db(), scope, (trx) =>
      saveBufferedAttachments(trx, { workspaceId: acme.id, ticketId, messageId, files, limits }),
    );
  }

  function read(scope: Scope, storageKey: string): Promise<Buffer> {
    return withScope(db(), scope, (trx) => buffer(attachmentStore.get(trx, acme.id, storageKey)));
  }

  function visible(scope: Scope, messageId: string) {
    return withScope(db(), scope, (trx) => attachments.listOfMessages(trx, acme.id, [messageId]));
  }

  beforeEach(async () => {
    acme = await aWorkspace('acme');
    jo = await aRequester(acme, 'jo@example.com', 'Jo');
    sam = await aRequester(acme, 'sam@example.com', 'Sam');
    ticket = await aTicket(acme, jo);
    joMessage = await aMessage(false);
    internalNote = await aMessage(true);
  });

  it('keeps each allowed type, judged by content, with its bytes intact', async () => {
    const samples = await allowedSamples();
    const named = samples.map((s, i) => ({ name: `file-${i}.bin`, content: s.content }));
    // Two messages: five files each is the limit.
    const first = await save(system, joMessage, named.slice(0, 5));
    const second = await save(system, internalNote, named.slice(5));
    const saved = [...first.saved, ...second.saved];
    assert.deepEqual([...first.refused, ...second.refused], []);
    assert.deepEqual(
      saved.map((s) => s.contentType),
      samples.map((s) => s.type),
    );
    const stored = await withScope(db(), system, (trx) =>
      attachments.listOfMessages(trx, acme.id, [joMessage, internalNote]),
    );
    for (const [i, sample] of samples.entries()) {
      const row = stored.find((a) => a.id === saved[i]!.id)!;
      assert.equal(row.size, sample.content.length);
      assert.deepEqual(await read(system, row.storageKey), sample.content);
    }
  });

  it('refuses files that only look like an allowed type, naming each, and stores nothing', async () => {
    const result = await save(system, joMessage, disguisedSamples());
    assert.deepEqual(result.saved, []);
    assert.deepEqual(
      result.refused.map((r) => r.name),
      disguisedSamples().map((s) => s.name),
    );
    for (const refusal of result.refused) {
      assert.ok(refusal.reason.includes(`“${refusal.name}”`), refusal.reason);
      assert.ok(refusal.reason.includes(ALLOWED_TYPES_TEXT), refusal.reason);
    }
    assert.deepEqual(await rows('select id from attachments'), []);
    assert.deepEqual(await rows('select seq from attachment_chunks'), []);
  });

  it('stores the cleaned name', async () => {
    const { saved } = await save(system, joMessage, [
      { name: 'C:\\Users\\jo\\Desktop\\inv\u202Efdp.txt', content: Buffer.from('hello\n') },
    ]);
    assert.equal(saved[0]!.name, 'invfdp.txt');
  });

  it('keeps at most the configured number of files, each and all within their sizes', async () => {
    const small = (i: number) => ({ name: `n${i}.txt`, content: Buffer.from(`note ${i}\n`) });
    const six = await save(system, joMessage, [0, 1, 2, 3, 4, 5].map(small));
    assert.equal(six.saved.length, limits.maxFiles);
    assert.match(
      six.refused[0]!.reason,
      /“n5.txt” was not kept: a message can have at most 5 files/,
    );

    const big = (name: string, bytes: number) => ({
      name,
      content: Buffer.concat([Buffer.from('%PDF-1.4\n'), Buffer.alloc(bytes - 9, 0x20)]),
    });
    const sizes = await save(system, internalNote, [
      big('too-big.pdf', limits.maxFileBytes + 1),
      big('a.pdf', limits.maxFileBytes),
      big('b.pdf', limits.maxFileBytes),
      big('c.pdf', limits.maxFileBytes),
      { name: 'empty.txt', content: Buffer.alloc(0) },
    ]);
    assert.deepEqual(
      sizes.saved.map((s) => s.name),
      ['a.pdf', 'b.pdf'],
    );
    assert.deepEqual(
      sizes.refused.map((r) => r.reason),
      [
        '“too-big.pdf” must be smaller than 10 MB',
        '“c.pdf” was not kept: a message’s files must be smaller than 25 MB together',
        '“empty.txt” is empty',
      ],
    );
  });

  it('keeps bytes in chunk rows, and deleting the file deletes its chunks', async () => {
    const content = Buffer.concat([pdf(), Buffer.alloc(2 * CHUNK_BYTES + 10, 0x41)]);
    const { saved } = await save(system, joMessage, [{ name: 'long.pdf', content }]);
    const chunks = await rows<{ seq: number; length: number }>(
      'select seq, length(data) as length from attachment_chunks order by seq',
    );
    assert.deepEqual(
      chunks.map((c) => c.length),
      [CHUNK_BYTES, CHUNK_BYTES, content.length - 2 * CHUNK_BYTES],
    );
    await withScope(db(), system, (trx) => trx('attachments').where({ id: saved[0]!.id }).delete());
    assert.deepEqual(await rows('select seq from attachment_chunks'), []);
  });

  it('refuses a message that is not on the ticket', async () => {
    const other = await aTicket(acme, sam);
    await assert.rejects(
      save(system, joMessage, [{ name: 'a.txt', content: Buffer.from('a') }], other.id),
    );
  });

  describe('row-level security', () => {
    let publicFile: attachments.Attachment;
    let noteFile: attachments.Attachment;

    beforeEach(async () => {
      await save(system, joMessage, [{ name: 'public.txt', content: Buffer.from('public\n') }]);
      await save(system, internalNote, [{ name: 'note.txt', content: Buffer.from('secret\n') }]);
      publicFile = (await visible(system, joMessage))[0]!;
      noteFile = (await visible(system, internalNote))[0]!;
    });

    it('shows the requester the files of their public messages, never of an internal note', async () => {
      assert.deepEqual(
        (await visible(joScope(), joMessage)).map((a) => a.name),
        ['public.txt'],
      );
      assert.deepEqual(await visible(joScope(), internalNote), []);
      assert.deepEqual(await read(joScope(), publicFile.storageKey), Buffer.from('public\n'));
      assert.deepEqual(await read(joScope(), noteFile.storageKey), Buffer.alloc(0));
    });

    it('shows another requester nothing, and an agent everything of the workspace', async () => {
      assert.deepEqual(await visible(samScope(), joMessage), []);
      assert.deepEqual(await read(samScope(), publicFile.storageKey), Buffer.alloc(0));
      const agent: Scope = { kind: 'agent', workspaceId: acme.id, userId: jo.id };
      assert.equal((await visible(agent, internalNote)).length, 1);
      assert.deepEqual(await read(agent, noteFile.storageKey), Buffer.from('secret\n'));
      const globex = await aWorkspace('globex');
      const foreign: Scope = { kind: 'agent', workspaceId: globex.id, userId: jo.id };
      assert.deepEqual(await withScope(db(), foreign, (trx) => trx('attachments').select()), []);
      assert.deepEqual(
        await withScope(db(), foreign, (trx) => trx('attachment_chunks').select()),
        [],
      );
    });

    it('lets a requester add files to their own message only', async () => {
      const { saved } = await save(joScope(), joMessage, [
        { name: 'more.txt', content: Buffer.from('more\n') },
      ]);
      assert.equal(saved.length, 1);
      await assert.rejects(
        save(joScope(), internalNote, [{ name: 'sneak.txt', content: Buffer.from('x\n') }]),
      );
      const agentReply = await withScope(db(), system, async (trx) => {
        const agent = await anAgentRow(trx);
        return messages.insert(trx, {
          workspaceId: acme.id,
          ticketId: ticket.id,
          author: { kind: 'agent', userId: agent, name: 'Alex' },
          body: 'Public reply',
          internal: false,
          at: new Date(),
        });
      });
      await assert.rejects(
        withScope(db(), joScope(), (trx) =>
          attachments.insert(trx, {
            workspaceId: acme.id,
            messageId: agentReply.id,
            position: 0,
            name: 'forged.txt',
            contentType: 'text/plain',
            size: 0,
            storageKey: crypto.randomUUID(),
          }),
        ),
        /row-level security/,
      );
    });
  });
});

async function anAgentRow(trx: Parameters<Parameters<typeof withScope>[2]>[0]): Promise<string> {
  const row = (await trx('users').select('id').first()) as { id: string };
  return row.id;
}
