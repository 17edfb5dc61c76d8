import type { Attachment } from 'mailparser';
import type { AttachmentLimits } from '../config';
import type { Trx } from '../db/knex';
import { saveBufferedAttachments, type BufferedFile } from './attachments';

/**
 * The files of an inbound mail, kept with the message they came with through the attachment
 * storage (#11 point 1), which judges each by its content against the allow-list and the limits
 * of a portal message. What it refuses is simply not kept: a reply by mail gets no answer that
 * could start a loop, and the agents see in the thread which files arrived.
 */

/** Every attached part of the mail, inline images included (pasted screenshots are inline). */
export function filesOf(attachments: readonly Attachment[]): BufferedFile[] {
  return attachments.map((attachment, index) => ({
    name: attachment.filename ?? `attachment-${index + 1}`,
    content: attachment.content,
  }));
}

/** Keeps what may be kept; returns how many files were refused (for the log). */
export async function keepInboundAttachments(
  trx: Trx,
  input: {
    workspaceId: string;
    ticketId: string;
    messageId: string;
    files: readonly BufferedFile[];
    limits: AttachmentLimits;
  },
): Promise<{ kept: number; refused: number }> {
  if (!input.files.length) return { kept: 0, refused: 0 };
  const { saved, refused } = await saveBufferedAttachments(trx, input);
  return { kept: saved.length, refused: refused.length };
}
