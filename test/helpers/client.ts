import * as cheerio from 'cheerio';
import request from 'supertest';
import type { Response } from 'supertest';
import type { TestApp } from './app';

/** One browser: a cookie jar, a workspace host, CSRF tokens read from the forms it loaded. */
export class Browser {
  readonly agent: ReturnType<typeof request.agent>;
  constructor(
    readonly testApp: TestApp,
    readonly host = 'acme.localhost',
  ) {
    this.agent = request.agent(testApp.app);
  }

  get(path: string): Promise<Response> {
    return this.agent.get(path).set('Host', this.host).redirects(0);
  }

  /** POSTs a form body as a browser would (urlencoded), with no CSRF token unless given. */
  post(
    path: string,
    form: Record<string, string> = {},
    headers: Record<string, string> = {},
  ): Promise<Response> {
    return this.agent
      .post(path)
      .set('Host', this.host)
      .set(headers)
      .type('form')
      .send(form)
      .redirects(0);
  }

  /**
   * POSTs a multipart form as a browser sends one whose file input comes last: the fields (the
   * CSRF token among them, first if given) and then each file, under the input's name. The
   * browser's claimed type is always application/octet-stream: the server must not care.
   */
  postFiles(
    path: string,
    fields: Record<string, string>,
    files: readonly { name: string; content: Buffer }[],
    input = 'attachments',
  ): Promise<Response> {
    let req = this.agent.post(path).set('Host', this.host);
    for (const [name, value] of Object.entries(fields)) req = req.field(name, value);
    if (files.length === 0) {
      req = req.attach(input, Buffer.alloc(0), {
        filename: '',
        contentType: 'application/octet-stream',
      });
    }
    for (const file of files) {
      req = req.attach(input, file.content, {
        filename: file.name,
        contentType: 'application/octet-stream',
      });
    }
    return req.redirects(0);
  }

  /** Loads the page holding a file form, takes its CSRF token and submits fields and files. */
  async submitFiles(
    pagePath: string,
    action: string,
    fields: Record<string, string>,
    files: readonly { name: string; content: Buffer }[],
  ): Promise<Response> {
    const page = await this.get(pagePath);
    return this.postFiles(action, { _csrf: csrfTokenOf(page.text), ...fields }, files);
  }

  /**
   * This browser, with its cookies, talking to another instance: as after a restart, or behind
   * a load balancer.
   */
  on(testApp: TestApp): Browser {
    const moved = new Browser(testApp, this.host);
    moved.agent.jar = this.agent.jar;
    return moved;
  }

  /** Loads the page holding a form, takes its CSRF token and submits. */
  async submit(
    pagePath: string,
    action: string,
    form: Record<string, string> = {},
    headers: Record<string, string> = {},
  ): Promise<Response> {
    const page = await this.get(pagePath);
    const token = csrfTokenOf(page.text);
    return this.post(action, { _csrf: token, ...form }, headers);
  }

  /** The magic-link round trip: request, take the link from the mail, confirm. */
  async signIn(email: string): Promise<Response> {
    await this.submit('/tickets/login', '/tickets/login', { email });
    const mails = await this.testApp.deliverMail();
    // The address may get other mail in the same delivery (a ticket's acknowledgement, queued at
    // the same instant): the sign-in mail is the one with the link.
    const mail = mails.find(
      (m) => m.to === email.trim().toLowerCase() && /\/tickets\/login\/[A-Za-z0-9_-]+/.test(m.text),
    );
    if (!mail) throw new Error(`no sign-in mail for ${email}`);
    const link = new URL(signInLinkOf(mail.text));
    return this.submit(link.pathname, link.pathname);
  }

  /** Agent app sign-in with email and password; answers the POST's response (303 on success). */
  async signInAgent(email: string, password: string): Promise<Response> {
    return this.submit('/admin/login', '/admin/login', { email, password });
  }

  /** A cookie of this browser, by name; the path says which app's jar entry to read. */
  cookie(name: string, path = '/tickets'): string | undefined {
    const cookie = this.agent.jar.getCookie(name, {
      domain: '127.0.0.1',
      path,
      script: false,
      secure: false,
    });
    return cookie?.value;
  }
}

export function csrfTokenOf(html: string): string {
  const token = cheerio.load(html)('input[name="_csrf"]').first().val();
  if (typeof token !== 'string' || !token) throw new Error('no CSRF token on the page');
  return token;
}

export function signInLinkOf(text: string): string {
  const match = /https?:\/\/\S+\/tickets\/login\/[A-Za-z0-9_-]+/.exec(text);
  if (!match) throw new Error('no sign-in link in the mail');
  return match[0];
}

/**
 * The grouped code (ABCD-EFGH) a sign-in mail carries for signing in on another device: on a line
 * (text) or in an element (HTML) of its own, so a piece of the link can never pass for it.
 */
export function signInCodeOf(textOrHtml: string): string {
  const match = /(?:^|>)\s*([A-Z0-9]{4}-[A-Z0-9]{4})\s*(?:$|<)/m.exec(textOrHtml);
  if (!match) throw new Error('no sign-in code in the mail');
  return match[1]!;
}

export function $(html: string): cheerio.CheerioAPI {
  return cheerio.load(html);
}

/**
 * A browser on https behind the TLS-terminating proxy (X-Forwarded-Proto), for production-mode
 * apps whose cookies are Secure. It keeps its cookies itself, since supertest's jar sends no Secure
 * cookie over the plain connection the test really uses.
 */
export class HttpsBrowser {
  private readonly cookies = new Map<string, string>();
  constructor(
    readonly testApp: TestApp,
    readonly host = 'acme.localhost',
  ) {}

  private remember(res: Response): Response {
    const header = res.headers['set-cookie'] as unknown as string[] | undefined;
    for (const line of header ?? []) {
      const [pair = ''] = line.split(';');
      const eq = pair.indexOf('=');
      this.cookies.set(pair.slice(0, eq), pair.slice(eq + 1));
    }
    return res;
  }

  private cookieHeader(): string {
    return [...this.cookies].map(([k, v]) => `${k}=${v}`).join('; ');
  }

  async get(path: string): Promise<Response> {
    return this.remember(
      await request(this.testApp.app)
        .get(path)
        .set({ Host: this.host, 'X-Forwarded-Proto': 'https', Cookie: this.cookieHeader() })
        .redirects(0),
    );
  }

  async submit(pagePath: string, action: string, form: Record<string, string> = {}) {
    const token = csrfTokenOf((await this.get(pagePath)).text);
    return this.remember(
      await request(this.testApp.app)
        .post(action)
        .set({ Host: this.host, 'X-Forwarded-Proto': 'https', Cookie: this.cookieHeader() })
        .type('form')
        .send({ _csrf: token, ...form })
        .redirects(0),
    );
  }
}

/** The Set-Cookie line for one cookie name, if the response sets it. */
export function setCookieLine(res: Response, name: string): string | undefined {
  const header = res.headers['set-cookie'] as unknown as string[] | undefined;
  return header?.find((c) => c.startsWith(`${name}=`));
}
