/**
 * Values computed from their keys and kept, at most `limit` of them: for text derived again and
 * again from a few recurring inputs (the times on a page, a template's variable names). When full
 * it is emptied rather than trimmed: simpler than least-recently-used, and refilling costs no
 * more than the computing it saves.
 */
export class BoundedCache<K, V> {
  readonly #entries = new Map<K, V>();

  constructor(
    private readonly limit: number,
    private readonly make: (key: K) => V,
  ) {}

  get(key: K): V {
    let value = this.#entries.get(key);
    if (value === undefined) {
      value = this.make(key);
      if (this.#entries.size >= this.limit) this.#entries.clear();
      this.#entries.set(key, value);
    }
    return value;
  }

  /** How many are kept now (for tests that hold a cache to its bound). */
  get size(): number {
    return this.#entries.size;
  }
}
