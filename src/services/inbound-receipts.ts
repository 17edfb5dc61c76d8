import { createHash } from 'node:crypto';
import type { ParsedMail } from 'mailparser';
import type { Db, Trx } from '../db/knex';
import { withScope } from '../db/scopes';
import * as inboundReceipts from '../models/inbound-receipts';

/**
 * What identifies one message across its deliveries: its Message-ID with its sender (a server
 * that sends it again keeps both), or, without a Message-ID, its bytes.
 */
export function messageIdentity(mail: ParsedMail, raw: Buffer, senderEmail: string): string {
  return mail.messageId
    ? `id\0${mail.messageId}\0${senderEmail}`
    : `raw\0${createHash('sha256').update(raw).digest('hex')}`;
}

/** The receipt of one message for one of our recipients (migration 20261201150000 says why). */
export function receiptKey(identity: string, recipient: string): Buffer {
  return createHash('sha256').update(`${identity}\0${recipient}`).digest();
}

/** Whether the message was already taken for that recipient, by any instance. */
export function alreadyTaken(db: Db, key: Buffer): Promise<boolean> {
  return withScope(db, { kind: 'system' }, (trx) => inboundReceipts.exists(trx, key));
}

/** Records it, in the transaction of what the message did there. */
export function recordTaken(trx: Trx, key: Buffer, at: Date): Promise<void> {
  return inboundReceipts.insert(trx, key, at);
}
