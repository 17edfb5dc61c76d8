import type { Attachment } from 'mailparser';
import type { Trx } from '../db/knex';

/**
 * The files of an inbound mail, kept with the message they came with through the attachment
 * storage of #11 point 1, which judges each by its content against the allow-list.
 */
export interface InboundFile {
  name: string;
  content: Buffer;
}

/** Every attached part of the mail, inline images included (pasted screenshots are inline). */
export function filesOf(attachments: readonly Attachment[]): InboundFile[] {
  return attachments.map((attachment, index) => ({
    name: attachment.filename ?? `attachment-${index + 1}`,
    content: attachment.content,
  }));
}

/**
 * THE call site for the attachment storage: once `saveBufferedAttachments` exists
 * (src/services/attachments.ts), this keeps the files and returns the names of those refused.
 * Until then no file is kept and none is reported refused.
 */
export function keepInboundAttachments(
  _trx: Trx,
  _input: {
    workspaceId: string;
    ticketId: string;
    messageId: string;
    files: readonly InboundFile[];
  },
): Promise<{ refused: string[] }> {
  return Promise.resolve({ refused: [] });
}
