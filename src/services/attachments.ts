import type { AttachmentLimits } from '../config';
import type { Trx } from '../db/knex';
import * as attachments from '../models/attachments';
import * as messages from '../models/messages';
import { postgresAttachmentStore, type AttachmentStore } from './attachment-store';
import { ALLOWED_TYPES_TEXT, SAMPLE_BYTES, detectType } from './attachment-types';
import { cleanFileName } from './file-names';

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
export interface RefusedFile {
  name: string;
  reason: string;
}

/** The one store in use; swapping it (for an S3-compatible one, say) is a change here alone. */
export const attachmentStore: AttachmentStore = postgresAttachmentStore;

/** "10 MB", "25 MB": limits as the forms and refusals state them. */
export function megabytes(bytes: number): string {
  return `${Math.round(bytes / (1024 * 1024))} MB`;
}

/** The sentences a refusal gives: they name the file, and say what would be accepted. */
export const refusals = {
  type: (name: string) => `“${name}” must be a ${ALLOWED_TYPES_TEXT} file`,
  empty: (name: string) => `“${name}” is empty`,
  tooLarge: (name: string, limits: AttachmentLimits) =>
    `“${name}” must be smaller than ${megabytes(limits.maxFileBytes)}`,
  tooMany: (name: string, limits: AttachmentLimits) =>
    `“${name}” was not kept: a message can have at most ${limits.maxFiles} files`,
  overTotal: (name: string, limits: AttachmentLimits) =>
    `“${name}” was not kept: a message’s files must be smaller than ${megabytes(limits.maxMessageBytes)} together`,
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
    const refuse = (reason: string) => refused.push({ name, reason });
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
