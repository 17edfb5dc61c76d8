import type { AttachmentLimits } from '../config';
import type { Db, Trx } from '../db/knex';
import { withScope } from '../db/scopes';
import type { Readable } from 'node:stream';
import { buffer } from 'node:stream/consumers';
import { NotFoundError, PayloadTooLargeError } from '../errors';
import * as attachments from '../models/attachments';
import * as messages from '../models/messages';
import { postgresAttachmentStore, type AttachmentStore } from './attachment-store';
import type { LocalText } from '../errors';
import { translatorFor, type MessageValues, type Translate } from '../i18n/translate';
import { SAMPLE_BYTES, detectType } from './attachment-types';
import { cleanFileName } from './file-names';
import { megabytes } from './file-sizes';
import type { MailFile, SentFile } from './mail-transport';

const english = translatorFor('en');

export interface BufferedFile {
  name: string;
  content: Buffer;
}
export interface AttachmentSummary {
  id: string;
  name: string;
  contentType: string;
  size: number;
}
/** A refused file: `reason` in English (agents, logs), `text` for a customer's language. */
export interface RefusedFile {
  name: string;
  reason: string;
  text: LocalText;
}

/** The one store in use; swapping it (for an S3-compatible one, say) is a change here alone. */
export const attachmentStore: AttachmentStore = postgresAttachmentStore;

/** The hint beside every file input: what may be attached (the refusals name every type). */
export function attachmentHint(limits: AttachmentLimits, t: Translate = english): string {
  return t('files.hint', {
    maxFiles: limits.maxFiles,
    fileMegabytes: megabytes(limits.maxFileBytes),
    messageMegabytes: megabytes(limits.maxMessageBytes),
  });
}

function refusal(name: string, key: string, values: MessageValues = {}): RefusedFile {
  const text = { key, values: { name, ...values } };
  return { name, reason: english(text.key, text.values), text };
}

/** The sentences a refusal gives: they name the file, and say what would be accepted. */
export const refusals = {
  type: (name: string) => refusal(name, 'files.refused.type'),
  empty: (name: string) => refusal(name, 'files.refused.empty'),
  tooLarge: (name: string, limits: AttachmentLimits) =>
    refusal(name, 'files.refused.tooLarge', { megabytes: megabytes(limits.maxFileBytes) }),
  tooMany: (name: string, limits: AttachmentLimits) =>
    refusal(name, 'files.refused.tooMany', { max: limits.maxFiles }),
  overTotal: (name: string, limits: AttachmentLimits) =>
    refusal(name, 'files.refused.overTotal', { megabytes: megabytes(limits.maxMessageBytes) }),
  /** More files than a form takes: the extra ones were never read, so none is named. */
  extra: (limits: AttachmentLimits) => refusal('', 'files.refused.extra', { max: limits.maxFiles }),
};

function summary(attachment: attachments.Attachment): AttachmentSummary {
  return {
    id: attachment.id,
    name: attachment.name,
    contentType: attachment.contentType,
    size: attachment.size,
  };
}

async function* once(content: Buffer): AsyncGenerator<Buffer> {
  yield await Promise.resolve(content);
}

/**
 * Stores each allowed file under the message (limits and allow-list from `limits`, which callers
 * pass from config.attachments); refuses the rest, in order: beyond the count, empty, over the
 * per-file size, over the message's total, or not an allowed type by content. Names are cleaned.
 * Runs in the caller's transaction and scope: a scope that may not see the message adds nothing
 * (row-level security refuses the insert and the transaction fails).
 */
export async function saveBufferedAttachments(
  trx: Trx,
  input: {
    workspaceId: string;
    ticketId: string;
    messageId: string;
    files: readonly BufferedFile[];
    limits: AttachmentLimits;
  },
): Promise<{ saved: AttachmentSummary[]; refused: RefusedFile[] }> {
  const { limits } = input;
  const { workspaceId, ticketId, messageId } = input;
  if (!(await messages.isOnTicket(trx, { workspaceId, ticketId, messageId }))) {
    throw new Error('saveBufferedAttachments: the message is not on the ticket, or not visible');
  }
  const saved: AttachmentSummary[] = [];
  const refused: RefusedFile[] = [];
  let position = await attachments.nextPosition(trx, input.workspaceId, input.messageId);
  let total = 0;
  for (const file of input.files) {
    const name = cleanFileName(file.name);
    const refuse = (refusedFile: RefusedFile) => refused.push(refusedFile);
    if (saved.length >= limits.maxFiles) refuse(refusals.tooMany(name, limits));
    else if (file.content.length === 0) refuse(refusals.empty(name));
    else if (file.content.length > limits.maxFileBytes) refuse(refusals.tooLarge(name, limits));
    else if (total + file.content.length > limits.maxMessageBytes)
      refuse(refusals.overTotal(name, limits));
    else {
      const contentType = await detectType(
        file.content.subarray(0, SAMPLE_BYTES),
        file.content.length <= SAMPLE_BYTES,
      );
      if (!contentType) refuse(refusals.type(name));
      else {
        const stored = await attachmentStore.put(
          trx,
          input.workspaceId,
          once(file.content),
          limits.maxFileBytes,
        );
        const attachment = await attachments.insert(trx, {
          workspaceId: input.workspaceId,
          messageId: input.messageId,
          position,
          name,
          contentType,
          size: stored.size,
          storageKey: stored.key,
        });
        position += 1;
        total += stored.size;
        saved.push(summary(attachment));
      }
    }
  }
  return { saved, refused };
}

/** A file arriving as a stream (a form upload): read once, in order. */
export interface IncomingFile {
  name: string;
  content: AsyncIterable<Buffer>;
}

/** A form's files, and whether it had more than its limit (the extra ones were skipped). */
export type IncomingFiles = AsyncIterable<IncomingFile> & { tooMany: boolean };

/** Files were refused: the work they came with is rolled back and the form shown again. */
export class AttachmentsRefusedError extends Error {
  constructor(readonly refused: RefusedFile[]) {
    super('attachments refused');
  }
}

/** The first bytes of a stream (enough to judge its type), and the whole stream again. */
async function sampled(content: AsyncIterable<Buffer>) {
  const iterator = content[Symbol.asyncIterator]();
  const pieces: Buffer[] = [];
  let length = 0;
  let complete = false;
  while (length < SAMPLE_BYTES) {
    const next = await iterator.next();
    if (next.done) {
      complete = true;
      break;
    }
    pieces.push(next.value);
    length += next.value.length;
  }
  const sample = Buffer.concat(pieces, length);
  async function* whole(): AsyncGenerator<Buffer> {
    yield sample;
    if (complete) return;
    for (let next = await iterator.next(); !next.done; next = await iterator.next()) {
      yield next.value;
    }
  }
  return { sample, complete, whole: whole() };
}

/** Reads to the end, keeping nothing, but no further than `maxBytes` (else 413). */
async function discard(content: AsyncIterable<Buffer>, maxBytes: number): Promise<number> {
  let size = 0;
  for await (const piece of content) {
    size += piece.length;
    if (size > maxBytes) throw new PayloadTooLargeError('attachment over its size limit');
  }
  return size;
}

/**
 * Reads a form's files in order. Each is judged by its first bytes; allowed ones go to `keep`
 * (which stores them) until one is refused, after which the rest are only judged, so the
 * refusal can name every bad file. A file or the files together over their size limit stop
 * everything with 413 (PayloadTooLargeError). A file input left empty sends a nameless, empty
 * part: skipped.
 */
async function receive(
  files: IncomingFiles,
  limits: AttachmentLimits,
  keep:
    | ((file: {
        name: string;
        contentType: string;
        content: AsyncIterable<Buffer>;
        maxBytes: number;
      }) => Promise<number>)
    | undefined,
): Promise<RefusedFile[]> {
  const refused: RefusedFile[] = [];
  let total = 0;
  for await (const file of files) {
    const { sample, complete, whole } = await sampled(file.content);
    if (file.name === '' && sample.length === 0) continue;
    const name = cleanFileName(file.name);
    const maxBytes = Math.min(limits.maxFileBytes, limits.maxMessageBytes - total);
    const contentType = sample.length === 0 ? undefined : await detectType(sample, complete);
    if (!contentType || !keep || refused.length > 0) {
      total += await discard(whole, maxBytes);
      if (sample.length === 0) refused.push(refusals.empty(name));
      else if (!contentType) refused.push(refusals.type(name));
      continue;
    }
    total += await keep({ name, contentType, content: whole, maxBytes });
  }
  if (files.tooMany) refused.push(refusals.extra(limits));
  return refused;
}

/**
 * Stores a form's files under the message, in the caller's transaction; any refusal throws
 * AttachmentsRefusedError (after every file was judged), so the caller's work rolls back.
 */
export async function saveIncomingAttachments(
  trx: Trx,
  input: { workspaceId: string; messageId: string; files: IncomingFiles; limits: AttachmentLimits },
): Promise<SavedFile[]> {
  let position = await attachments.nextPosition(trx, input.workspaceId, input.messageId);
  const saved: SavedFile[] = [];
  const refused = await receive(input.files, input.limits, async (file) => {
    const stored = await attachmentStore.put(trx, input.workspaceId, file.content, file.maxBytes);
    const { id } = await attachments.insert(trx, {
      workspaceId: input.workspaceId,
      messageId: input.messageId,
      position,
      name: file.name,
      contentType: file.contentType,
      size: stored.size,
      storageKey: stored.key,
    });
    position += 1;
    saved.push({ id, name: file.name, size: stored.size });
    return stored.size;
  });
  if (refused.length > 0) throw new AttachmentsRefusedError(refused);
  return saved;
}

/** A file kept with a message: what a mail about that message says of it. */
export interface SavedFile {
  id: string;
  name: string;
  size: number;
}

/**
 * Judges a form's files without storing any: for a form refused for its other fields, so the
 * page can name the bad files as well (the browser does not keep the chosen files).
 */
export function checkIncomingAttachments(
  files: IncomingFiles,
  limits: AttachmentLimits,
): Promise<RefusedFile[]> {
  return receive(files, limits, undefined);
}

/** The files of a ticket's opening message. */
export async function attachToFirstMessage(
  trx: Trx,
  input: { workspaceId: string; ticketId: string; files: IncomingFiles; limits: AttachmentLimits },
): Promise<void> {
  const first = await messages.firstOfTicket(trx, input.workspaceId, input.ticketId);
  if (!first) throw new Error('attachToFirstMessage: the ticket has no message');
  await saveIncomingAttachments(trx, { ...input, messageId: first.id });
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/**
 * A file of the ticket to download, if this scope may see it (row-level security decides), and
 * its bytes as a stream to be read within the same transaction. 404 for anything else.
 */
export async function openAttachment(
  trx: Trx,
  input: { workspaceId: string; ticketId: string; id: string },
): Promise<{ file: attachments.Attachment; content: Readable }> {
  const file = UUID.test(input.id) ? await attachments.findOnTicket(trx, input) : undefined;
  if (!file) throw new NotFoundError();
  return { file, content: attachmentStore.get(trx, input.workspaceId, file.storageKey) };
}

/**
 * Which of a reply's files go with its mail as attachments, in their order, while they fit in
 * `maxBytes` together; the rest are only named (too large for many mail servers).
 */
export function filesForMail<F extends { size: number }>(
  files: readonly F[],
  maxBytes: number,
): { attached: F[]; tooLarge: F[] } {
  const attached: F[] = [];
  const tooLarge: F[] = [];
  let total = 0;
  for (const file of files) {
    if (total + file.size <= maxBytes) {
      attached.push(file);
      total += file.size;
    } else {
      tooLarge.push(file);
    }
  }
  return { attached, tooLarge };
}

/**
 * The bytes of the files a queued mail sends, read when it is sent, in the system scope (the
 * worker acts for no one in particular). A file gone since (erased with its requester's data)
 * is left out.
 */
export function readFilesForMail(db: Db, files: readonly MailFile[]): Promise<SentFile[]> {
  return withScope(db, { kind: 'system' }, async (trx) => {
    const read: SentFile[] = [];
    for (const ref of files) {
      const opened = await openAttachment(trx, {
        workspaceId: ref.workspaceId,
        ticketId: ref.ticketId,
        id: ref.attachmentId,
      }).catch((error: unknown) => {
        if (error instanceof NotFoundError) return undefined;
        throw error;
      });
      if (!opened) continue;
      read.push({
        filename: opened.file.name,
        contentType: opened.file.contentType,
        content: await buffer(opened.content),
      });
    }
    return read;
  });
}

/** What a thread shows of a file: its name (a link), type and size. */
export interface AttachmentView {
  name: string;
  href: string;
  /** The content type; the page names it in its own language (the fileTypeLabel filter). */
  type: string;
  size: number;
}

export function attachmentView(file: attachments.Attachment, href: string): AttachmentView {
  return { name: file.name, href, type: file.contentType, size: file.size };
}
