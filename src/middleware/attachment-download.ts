import type { Request, Response } from 'express';
import type { Readable } from 'node:stream';
import type { Trx } from '../db/knex';
import type { Ticket } from '../models/tickets';
import { openAttachment } from '../services/attachments';

/**
 * How every stored file is served, in both apps: always as a download, under the type its
 * content was judged to have, never sniffed into something else, and sandboxed with no
 * resources at all should a browser render it anyway. Shared caches keep no copy.
 */

// RFC 5987 attr-chars are fewer than encodeURIComponent leaves alone.
function rfc5987(value: string): string {
  return encodeURIComponent(value).replace(
    /['()*]/g,
    (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`,
  );
}

/** An ASCII stand-in for old clients: quotes, backslashes and other characters become `_`. */
function asciiFallback(name: string): string {
  return name.replace(/[^\x20-\x7e]|["\\%]/g, '_');
}

export function contentDisposition(name: string): string {
  return `attachment; filename="${asciiFallback(name)}"; filename*=UTF-8''${rfc5987(name)}`;
}

/**
 * Writes the headers and the bytes, but does not end the response: the caller ends it once the
 * transaction the bytes were read in is over (a response that ends first would have the page
 * transaction rolled back under a commit still to come).
 */
export async function writeAttachment(
  res: Response,
  file: { name: string; contentType: string; size: number },
  content: Readable,
): Promise<void> {
  // setHeader, not res.set: Express would add a charset to text types, and the bytes' charset
  // is not known.
  res.setHeader('Content-Type', file.contentType);
  res.set({
    'Content-Length': String(file.size),
    'Content-Disposition': contentDisposition(file.name),
    'X-Content-Type-Options': 'nosniff',
    'Content-Security-Policy': "sandbox; default-src 'none'",
    'Cache-Control': 'private',
  });
  try {
    for await (const chunk of content as AsyncIterable<Buffer>) {
      if (res.destroyed) break;
      if (!res.write(chunk)) await writable(res);
    }
  } catch {
    // A read failed after the headers went out: there is no page left to answer with, only a
    // connection to end.
    res.destroy();
  }
}

/** Waits until the response takes more bytes, or the client is gone. */
function writable(res: Response): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      res.off('drain', done);
      res.off('close', done);
      resolve();
    };
    res.on('drain', done);
    res.on('close', done);
  });
}

/** How an app finds the ticket the URL names, for whoever asks (404 for anything else). */
type WithTicket = (
  req: Request,
  res: Response,
  work: (trx: Trx, ticket: Ticket) => Promise<void>,
) => Promise<void>;

/**
 * The download route of an app: the file `:id` of the ticket its loader finds. Row-level
 * security decides the rest: a file the viewer may not see (another requester's, an internal
 * note's for a customer) is not found, like a ticket that is not theirs.
 */
export function attachmentDownload(withTicket: WithTicket) {
  return async (req: Request, res: Response): Promise<void> => {
    const id = typeof req.params.id === 'string' ? req.params.id : '';
    await withTicket(req, res, async (trx, ticket) => {
      const { file, content } = await openAttachment(trx, {
        workspaceId: ticket.workspaceId,
        ticketId: ticket.id,
        id,
      });
      await writeAttachment(res, file, content);
    });
    res.end();
  };
}
