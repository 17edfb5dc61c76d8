/**
 * A browser's cookies, as simply as the bench needs them: every Set-Cookie name=value is kept and
 * all are sent back (each bench "browser" talks to one app, so paths never need telling apart);
 * a cookie set empty or already expired is dropped.
 */
export class CookieJar {
  private readonly cookies = new Map<string, string>();

  remember(setCookie: readonly string[] | undefined): void {
    for (const header of setCookie ?? []) {
      const [pair = '', ...attributes] = header.split(';');
      const split = pair.indexOf('=');
      if (split <= 0) continue;
      const name = pair.slice(0, split).trim();
      const value = pair.slice(split + 1).trim();
      if (value === '' || attributes.some(isExpiry)) this.cookies.delete(name);
      else this.cookies.set(name, value);
    }
  }

  has(name: string): boolean {
    return this.cookies.has(name);
  }

  /** The Cookie request header, or undefined when the jar is empty. */
  header(): string | undefined {
    if (this.cookies.size === 0) return undefined;
    return [...this.cookies].map(([name, value]) => `${name}=${value}`).join('; ');
  }
}

function isExpiry(attribute: string): boolean {
  const [key = '', value = ''] = attribute.split('=').map((part) => part.trim());
  if (key.toLowerCase() === 'max-age') return Number(value) <= 0;
  if (key.toLowerCase() === 'expires') return Date.parse(value) <= Date.now();
  return false;
}
