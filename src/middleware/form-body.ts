import express, { type RequestHandler } from 'express';
import { HttpError } from '../errors';

/** Percent-escapes and raw bytes of a urlencoded body, as the bytes they stand for. */
function bytesOf(body: Buffer): Buffer {
  const bytes: number[] = [];
  for (let i = 0; i < body.length; i += 1) {
    const byte = body[i]!;
    const hex = byte === 0x25 ? body.subarray(i + 1, i + 3).toString('latin1') : '';
    if (/^[0-9A-Fa-f]{2}$/.test(hex)) {
      bytes.push(parseInt(hex, 16));
      i += 2;
    } else {
      bytes.push(byte);
    }
  }
  return Buffer.from(bytes);
}

const utf8 = new TextDecoder('utf-8', { fatal: true });

/**
 * Form bodies as our pages send them: urlencoded UTF-8 within the size limit. The parser would
 * otherwise keep an undecodable field such as `a%FF%FE` as its literal escape text, and decode
 * other charsets it knows; both are refused before any field is read.
 */
export function formBody(limitBytes: number): RequestHandler {
  return express.urlencoded({
    extended: false,
    limit: limitBytes,
    parameterLimit: 50,
    verify(_req, _res, body, encoding) {
      if (encoding !== 'utf-8') throw new HttpError(415, `unsupported charset ${encoding}`);
      try {
        utf8.decode(bytesOf(body));
      } catch {
        throw new HttpError(422, 'form body is not valid UTF-8');
      }
    },
  });
}
