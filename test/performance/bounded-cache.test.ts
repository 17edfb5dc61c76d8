import assert from 'node:assert/strict';
import { BoundedCache } from '../../src/services/bounded-cache';

describe('a bounded cache', () => {
  it('computes a key once and keeps it, and is emptied when full, never holding more than its limit', () => {
    const made: number[] = [];
    const cache = new BoundedCache(3, (n: number) => {
      made.push(n);
      return `#${n}`;
    });
    assert.equal(cache.get(1), '#1');
    assert.equal(cache.get(1), '#1');
    assert.deepEqual(made, [1]);
    cache.get(2);
    cache.get(3);
    assert.equal(cache.size, 3);
    // The fourth empties it first: 4 is kept alone, and 1 is computed again when asked.
    assert.equal(cache.get(4), '#4');
    assert.equal(cache.size, 1);
    assert.equal(cache.get(1), '#1');
    assert.deepEqual(made, [1, 2, 3, 4, 1]);
  });
});
