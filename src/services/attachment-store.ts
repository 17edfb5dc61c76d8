import { Readable } from 'node:stream';
import type { Trx } from '../db/knex';
import { PayloadTooLargeError } from '../errors';
import * as attachments from '../models/attachments';

/**
 * Where a file's bytes live. Callers stream in and out and keep only the key, so a store for an
 * S3-compatible service could replace this one without a controller knowing. The transaction is
 * the unit of work the bytes belong to: this store writes its chunks in it, so a refused form
 * leaves nothing behind; another store would keep it to know when to clean up.
 */
export interface AttachmentStore {
  /** Stores the bytes; over maxBytes it stops reading and throws PayloadTooLargeError. */
  put(
    trx: Trx,
    workspaceId: string,
    content: AsyncIterable<Buffer>,
    maxBytes: number,
  ): Promise<{ key: string; size: number }>;
  /** The bytes again, as a stream; only where the scope may see an attachment naming the key. */
  get(trx: Trx, workspaceId: string, key: string): Readable;
}

/** One chunk row's size: one chunk in memory at a time, and few rows per file. */
export const CHUNK_BYTES = 256 * 1024;

/** Cuts a stream of buffers of any size into CHUNK_BYTES pieces (the last one shorter). */
async function* rechunk(content: AsyncIterable<Buffer>): AsyncGenerator<Buffer> {
  let pending: Buffer[] = [];
  let length = 0;
  for await (const piece of content) {
    pending.push(piece);
    length += piece.length;
    while (length >= CHUNK_BYTES) {
      const joined = Buffer.concat(pending, length);
      yield joined.subarray(0, CHUNK_BYTES);
      pending = [joined.subarray(CHUNK_BYTES)];
      length -= CHUNK_BYTES;
    }
  }
  if (length > 0) yield Buffer.concat(pending, length);
}

/** Bytes in PostgreSQL, in chunk rows under the same row-level security as the attachment. */
export const postgresAttachmentStore: AttachmentStore = {
  async put(trx, workspaceId, content, maxBytes) {
    const key = crypto.randomUUID();
    let size = 0;
    let seq = 0;
    for await (const data of rechunk(content)) {
      size += data.length;
      if (size > maxBytes) throw new PayloadTooLargeError('attachment over its size limit');
      await attachments.insertChunk(trx, { workspaceId, storageKey: key, seq, data });
      seq += 1;
    }
    return { key, size };
  },

  get(trx, workspaceId, key) {
    async function* chunks(): AsyncGenerator<Buffer> {
      for (let seq = 0; ; seq += 1) {
        const data = await attachments.readChunk(trx, { workspaceId, storageKey: key, seq });
        if (!data) return;
        yield data;
      }
    }
    return Readable.from(chunks(), { objectMode: false });
  },
};
