/**
 * A browser's cookies, as simply as the bench needs them (each bench "browser" talks to one host):
 * every Set-Cookie name=value is kept under its Path, and a request gets back the cookies whose
 * path matches its own, as a browser sends them (RFC 6265, 5.1.4 and 5.4). A cookie set empty or
 * already expired is dropped. Paths matter: the sign-in code's cookie is scoped to the sign-in
 * pages, and a jar that sent it everywhere would make every page of the bench check one signed
 * cookie more than a browser's request carries.
 */
export class CookieJar {
  /** By name and path, as a browser keeps them. */
  private readonly cookies = new Map<string, { name: string; value: string; path: string }>();

  /** The Set-Cookie headers of the answer to a request for `requestPath`. */
  remember(setCookie: readonly string[] | undefined, requestPath = '/'): void {
    for (const header of setCookie ?? []) {
      const [pair = '', ...attributes] = header.split(';');
      const split = pair.indexOf('=');
      if (split <= 0) continue;
      const name = pair.slice(0, split).trim();
      const value = pair.slice(split + 1).trim();
      const path = pathOf(attributes) ?? defaultPath(requestPath);
      const key = `${name}\u0000${path}`;
      if (value === '' || attributes.some(isExpiry)) this.cookies.delete(key);
      else this.cookies.set(key, { name, value, path });
    }
  }

  has(name: string): boolean {
    return [...this.cookies.values()].some((cookie) => cookie.name === name);
  }

  /** The Cookie request header for a request to `requestPath`, or undefined when none applies. */
  header(requestPath = '/'): string | undefined {
    const path = pathPart(requestPath) || '/';
    const sent = [...this.cookies.values()]
      .filter((cookie) => pathMatches(path, cookie.path))
      // Longer paths first, as browsers send them.
      .sort((a, b) => b.path.length - a.path.length);
    if (sent.length === 0) return undefined;
    return sent.map(({ name, value }) => `${name}=${value}`).join('; ');
  }
}

/** A Set-Cookie attribute as its lower-cased name and its value. */
function attributeOf(attribute: string): [key: string, value: string] {
  const [key = '', value = ''] = attribute.split('=').map((part) => part.trim());
  return [key.toLowerCase(), value];
}

/** A request target without its query or fragment. */
function pathPart(requestPath: string): string {
  return requestPath.split(/[?#]/, 1)[0] ?? '';
}

function pathOf(attributes: readonly string[]): string | undefined {
  for (const attribute of attributes) {
    const [key, value] = attributeOf(attribute);
    if (key === 'path' && value.startsWith('/')) return value;
  }
  return undefined;
}

/** RFC 6265 5.1.4: the request path up to its last slash, or "/". */
function defaultPath(requestPath: string): string {
  const path = pathPart(requestPath);
  const last = path.lastIndexOf('/');
  return last <= 0 ? '/' : path.slice(0, last);
}

function pathMatches(requestPath: string, cookiePath: string): boolean {
  if (requestPath === cookiePath) return true;
  if (!requestPath.startsWith(cookiePath)) return false;
  return cookiePath.endsWith('/') || requestPath[cookiePath.length] === '/';
}

function isExpiry(attribute: string): boolean {
  const [key, value] = attributeOf(attribute);
  if (key === 'max-age') return Number(value) <= 0;
  if (key === 'expires') return Date.parse(value) <= Date.now();
  return false;
}
