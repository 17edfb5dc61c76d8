import { randomFillSync } from 'node:crypto';

/**
 * Random identifiers from the operating system's CSPRNG, drawn a few kilobytes at a time.
 *
 * `crypto.randomBytes(24)` costs about 2 µs (a call into OpenSSL for every id), and the session
 * middleware makes an id for every request without a session cookie (every anonymous page),
 * although it keeps almost none. Drawn from a pool refilled 4 KB at a time, an id costs a tenth
 * of that; Node's own `crypto.randomUUID()` keeps such a pool for the same reason. Bytes are
 * handed out once and zeroed in the pool as they are.
 */
const pool = Buffer.alloc(4096);
let offset = pool.length;

export function randomId(bytes: number): string {
  if (bytes > pool.length) throw new RangeError(`at most ${pool.length} bytes an id`);
  if (offset + bytes > pool.length) {
    randomFillSync(pool);
    offset = 0;
  }
  const id = pool.toString('base64url', offset, offset + bytes);
  pool.fill(0, offset, offset + bytes);
  offset += bytes;
  return id;
}
