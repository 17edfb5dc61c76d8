import http from 'node:http';
import * as cheerio from 'cheerio';
import { CookieJar } from './cookie-jar';
import { REQUEST_TIMEOUT_MS } from './load';

export interface Reply {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: string;
}

/** The origin a request goes to: the TCP port on 127.0.0.1, and the Host the app sees. */
export interface Target {
  port: number;
  host: string;
}

/**
 * One "browser" of the bench: a cookie jar and the headers a browser behind the TLS-terminating
 * proxy would send. X-Forwarded-Proto: https makes Express (TRUST_PROXY=loopback) see https, so
 * the production app sets its Secure cookies.
 */
export class Browser {
  readonly jar = new CookieJar();

  constructor(readonly target: Target) {}

  /** The headers of a request from this browser: Host, X-Forwarded-Proto and the path's cookies. */
  headers(path: string, target: Target = this.target): Record<string, string> {
    const cookie = this.jar.header(path);
    return {
      host: target.host,
      'x-forwarded-proto': 'https',
      ...(cookie ? { cookie } : {}),
    };
  }

  get(path: string): Promise<Reply> {
    return this.send('GET', path);
  }

  post(path: string, fields: Record<string, string>): Promise<Reply> {
    return this.send('POST', path, new URLSearchParams(fields).toString());
  }

  private send(method: string, path: string, body?: string): Promise<Reply> {
    const headers: Record<string, string> = this.headers(path);
    if (body !== undefined) {
      headers['content-type'] = 'application/x-www-form-urlencoded';
      headers['content-length'] = String(Buffer.byteLength(body));
    }
    return new Promise((resolve, reject) => {
      const req = http.request(
        { host: '127.0.0.1', port: this.target.port, method, path, headers },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (chunk: Buffer) => chunks.push(chunk));
          res.on('error', reject);
          res.on('end', () => {
            this.jar.remember(res.headers['set-cookie'], path);
            resolve({
              status: res.statusCode ?? 0,
              headers: res.headers,
              body: Buffer.concat(chunks).toString('utf8'),
            });
          });
        },
      );
      req.on('error', reject);
      req.setTimeout(REQUEST_TIMEOUT_MS, () =>
        req.destroy(new Error(`no answer to ${method} ${path} in ${REQUEST_TIMEOUT_MS / 1000} s`)),
      );
      req.end(body);
    });
  }
}

/** The `_csrf` value of the first form on the page (or of the form posting to `action`). */
export function csrfOf(html: string, action?: string): string {
  const $ = cheerio.load(html);
  const form = action ? $(`form[action="${action}"]`) : $('form');
  const token = form.find('input[name="_csrf"]').first().val();
  if (typeof token !== 'string' || token === '') {
    throw new Error(`no _csrf field in ${action ? `the form posting to ${action}` : 'the page'}`);
  }
  return token;
}

/** The href of the first link matching the selector, or undefined. */
export function linkOf(html: string, selector: string): string | undefined {
  const href = cheerio.load(html)(selector).first().attr('href');
  return href || undefined;
}

/** Fails with what came back when a step of a flow answers other than expected. */
export function expectStatus(reply: Reply, expected: number, step: string): Reply {
  if (reply.status !== expected) {
    const excerpt = reply.body.replace(/\s+/g, ' ').slice(0, 300);
    throw new Error(`${step}: expected ${expected}, got ${reply.status} (${excerpt})`);
  }
  return reply;
}
