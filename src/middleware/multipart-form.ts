import busboy from 'busboy';
import type { NextFunction, Request, RequestHandler, Response } from 'express';
import { PassThrough, type Readable } from 'node:stream';
import type { AttachmentLimits } from '../config';
import { HttpError, PayloadTooLargeError } from '../errors';

/**
 * Ticket forms with files (multipart/form-data), streamed: the text fields are read first (the
 * page puts the CSRF token first and the file input last), then the request goes on to the CSRF
 * check, the viewer and the controller with its files still unread. Only a controller that has
 * accepted the form reads them, one at a time, straight into storage.
 */

declare module 'express-serve-static-core' {
  interface Locals {
    uploads: Uploads | undefined;
  }
}

/** One file of the form: its name as sent, and its bytes, to be read (or drained) in turn. */
export interface Upload {
  name: string;
  content: Readable;
}

function isMultipart(req: Request): boolean {
  return /^multipart\/form-data\b/i.test(req.get('content-type') ?? '');
}

/**
 * Put first in a router that takes multipart forms. A request refused before its files are read
 * (portal off, nobody signed in, a wrong CSRF token) must not make the server read them: Node
 * reads and discards an unread body after the response, to keep the connection alive. Such a
 * response closes the connection instead (the parser lifts this once the whole body is read),
 * and until a parser takes the body, reading stops when Node's small buffer is full.
 */
export function guardMultipartBody(req: Request, res: Response, next: NextFunction): void {
  if (!isMultipart(req)) return next();
  res.setHeader('Connection', 'close');
  // Reading once marks the body as consumed, so Node does not drain it after an early answer.
  req.read(0);
  next();
}

/** The files of a multipart form, in the order sent; each must be read or drained in turn. */
export class Uploads implements AsyncIterable<Upload> {
  private readonly queue: Upload[] = [];
  private finished = false;
  private failure: Error | undefined;
  private wake: (() => void) | undefined;
  /** The form had more files than a message may have; the extra ones were skipped. */
  tooMany = false;

  add(upload: Upload): void {
    this.queue.push(upload);
    this.notify();
  }

  finish(): void {
    this.finished = true;
    this.notify();
  }

  fail(error: Error): void {
    this.failure ??= error;
    this.notify();
  }

  private notify(): void {
    const wake = this.wake;
    this.wake = undefined;
    wake?.();
  }

  async *[Symbol.asyncIterator](): AsyncGenerator<Upload> {
    for (;;) {
      if (this.failure !== undefined) throw this.failure;
      const next = this.queue.shift();
      if (next) {
        yield next;
        // The parser cannot reach the next part until this one is read to its end.
        if (!next.content.readableEnded) await drain(next.content);
        continue;
      }
      if (this.finished) return;
      await new Promise<void>((resolve) => {
        this.wake = resolve;
      });
    }
  }
}

/** Reads a stream to its end, keeping nothing. */
export async function drain(stream: Readable): Promise<void> {
  for await (const chunk of stream) void chunk;
}

/** The files of this request's form: none for a form without any (or a urlencoded one). */
export function uploadsOf(res: Response): AsyncIterable<Upload> & { tooMany: boolean } {
  const uploads = res.locals.uploads;
  return uploads ?? { tooMany: false, [Symbol.asyncIterator]: async function* () {} };
}

/**
 * Parses a multipart ticket form's fields into req.body and leaves its files to the controller
 * (res.locals.uploads). At most `fieldBytes` may come before the first file, and at most the
 * files' limit plus `fieldBytes` of framing in all: more is 413, a declared length over it is
 * answered before anything is read. Other bodies pass untouched.
 */
export function multipartForm(limits: AttachmentLimits, fieldBytes: number): RequestHandler {
  const bodyCap = limits.maxMessageBytes + fieldBytes + limits.maxFiles * 1024;
  return (req, res, next) => {
    if (!isMultipart(req)) return next();
    if (Number(req.get('content-length') ?? 0) > bodyCap) {
      return next(new PayloadTooLargeError('multipart body over its limit'));
    }
    let parser: busboy.Busboy;
    try {
      parser = busboy({
        headers: req.headers,
        defParamCharset: 'utf8',
        limits: {
          fields: 20,
          fieldSize: fieldBytes,
          fieldNameSize: 100,
          files: limits.maxFiles,
          parts: 20 + limits.maxFiles,
          headerPairs: 20,
        },
      });
    } catch {
      return next(new HttpError(400, 'malformed multipart content type'));
    }
    const fields: Record<string, string> = {};
    const uploads = new Uploads();
    let handedOn = false;
    let read = 0;
    const handOn = (error?: Error) => {
      if (handedOn) return;
      handedOn = true;
      req.body = fields;
      res.locals.uploads = uploads;
      next(error);
    };
    // Stops reading: the answer closes the connection (guardMultipartBody).
    const fail = (error: Error) => {
      req.unpipe(parser);
      req.pause();
      uploads.fail(error);
      handOn(error);
      // A file being read fails with the same error.
      parser.destroy(error);
    };
    req.on('data', (chunk: Buffer) => {
      read += chunk.length;
      if (!handedOn && read > fieldBytes) fail(new PayloadTooLargeError('form fields over limit'));
      else if (read > bodyCap) fail(new PayloadTooLargeError('multipart body over its limit'));
    });
    parser.on('field', (name, value, info) => {
      if (info.valueTruncated) return fail(new PayloadTooLargeError(`field ${name} over limit`));
      // A field after a file comes too late to be read before the controller runs: not kept.
      if (!handedOn && !(name in fields)) fields[name] = value;
    });
    parser.on('file', (_field, raw, info) => {
      // A body that ends inside a file (no closing boundary) fails that file's stream too: for
      // the controller reading it, a malformed form (400), not a fault of ours. A controller
      // that refused the form never reads it, and an 'error' nobody listens for would end the
      // whole process, so the failure is also kept on the form.
      const content = new PassThrough();
      raw.on('error', () => content.destroy(new HttpError(400, 'the form ended inside a file')));
      content.on('error', (error) => uploads.fail(error));
      raw.pipe(content);
      uploads.add({ name: info.filename ?? '', content });
      handOn();
    });
    parser.on('filesLimit', () => {
      uploads.tooMany = true;
    });
    parser.on('partsLimit', () => fail(new HttpError(400, 'too many parts')));
    parser.on('fieldsLimit', () => fail(new HttpError(400, 'too many fields')));
    parser.on('error', () => fail(new HttpError(400, 'malformed multipart body')));
    parser.on('close', () => {
      // The whole body is read: the connection may stay open for the next request.
      if (!res.headersSent) res.removeHeader('Connection');
      uploads.finish();
      handOn();
    });
    req.pipe(parser);
  };
}
