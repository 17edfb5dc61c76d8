import assert from 'node:assert/strict';
import { randomId } from '../../src/services/random-ids';

describe('random ids from the pooled CSPRNG', () => {
  it('are 24 random bytes as 32 base64url characters, never repeated, across many refills of the pool', () => {
    const seen = new Set<string>();
    const symbols = new Map<string, number>();
    // 10,000 ids of 24 bytes: the 4 KB pool is refilled about 60 times along the way.
    for (let i = 0; i < 10_000; i += 1) {
      const id = randomId(24);
      assert.match(id, /^[A-Za-z0-9_-]{32}$/);
      assert.ok(!seen.has(id), `repeated id ${id}`);
      seen.add(id);
      for (const c of id) symbols.set(c, (symbols.get(c) ?? 0) + 1);
    }
    // 320,000 characters over 64 symbols: about 5,000 each if the bytes are uniform; a pool
    // handed out twice, or zeroed before use, would skew this far past the bounds.
    assert.equal(symbols.size, 64);
    for (const [symbol, count] of symbols) {
      assert.ok(count > 4_500 && count < 5_500, `${symbol} appeared ${count} times`);
    }
  });

  it('serves sizes that do not divide the pool, and refuses one larger than it', () => {
    const ids = Array.from({ length: 500 }, () => randomId(18));
    assert.equal(new Set(ids).size, 500);
    for (const id of ids) assert.equal(Buffer.from(id, 'base64url').length, 18);
    assert.throws(() => randomId(5000), RangeError);
  });
});
