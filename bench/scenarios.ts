/**
 * What `npm run bench` measures: each scenario is one request repeated with the same headers and
 * body, made from a real session obtained through the real flows (see flows.ts).
 */
import { ADMIN_EMAIL, BENCH_SLUG, HEAVY_EMAIL, LONG_THREAD_SUBJECT } from './bench-data';
import { Browser, csrfOf, expectStatus, linkOf, type Target } from './browser';
import { signInAgent, signInRequester, PORTAL_LOGIN } from './flows';
import type { Call } from './load';
import type { MailCatcher } from './mail-catcher';

/** Opens the write scenarios' tickets, so the heavy requester's data stays as seeded. */
export const WRITER_EMAIL = 'writer@bench.test';
/** An address with no requester: the sign-in request must answer it exactly like a known one. */
export const UNKNOWN_EMAIL = 'nobody@bench.test';
/** Where the bare server's floor reference starts a session. */
const FLOOR_SIGN_IN = '/floor/sign-in';
/** Pages of the heavy requester's list followed to reach the deep keyset page. */
export const DEEP_PAGES = 30;
/** Case-insensitive substring of one subject (the long thread's): the search scans for it. */
export const SUBJECT_SUBSTRING = LONG_THREAD_SUBJECT.slice(1, -1).toLowerCase();

export type TargetRule =
  | { kind: 'relative'; minRatio: number; maxP99Ratio?: number; zeroErrors?: boolean }
  | { kind: 'p50'; maxMs: number }
  | { kind: 'none' };

const pageTarget: TargetRule = {
  kind: 'relative',
  minRatio: 0.6,
  maxP99Ratio: 2,
  zeroErrors: true,
};
const signinPostTarget: TargetRule = { kind: 'relative', minRatio: 0.4 };
const agentPageTarget: TargetRule = { kind: 'relative', minRatio: 0.5 };
const searchTarget: TargetRule = { kind: 'p50', maxMs: 50 };

/** A prepared request: everything but the Host, which names the server it goes to. */
export interface Prepared {
  method: 'GET' | 'POST';
  path: string;
  /** The browser whose cookies go with every request: those a browser sends for this path. */
  from?: Browser;
  body?: string;
  expect: number;
  /** Text the answer must contain (checked before and after the load): the right page. */
  marker?: string;
}

export interface Scenario {
  name: string;
  label: string;
  server: 'app' | 'bare';
  write: boolean;
  target: TargetRule;
  prepare(sessions: Sessions): Promise<Prepared>;
}

/** The Host a server is reached by: the bench workspace for the app, anything for the bare. */
export function hostOf(server: Scenario['server'], port: number): string {
  return server === 'app' ? `${BENCH_SLUG}.localhost:${port}` : `127.0.0.1:${port}`;
}

export function callOf(server: Scenario['server'], prepared: Prepared, port: number): Call {
  const headers: Record<string, string> = {
    host: hostOf(server, port),
    'x-forwarded-proto': 'https',
  };
  const cookie = prepared.from?.jar.header(prepared.path);
  if (cookie) headers.cookie = cookie;
  if (prepared.body !== undefined) headers['content-type'] = 'application/x-www-form-urlencoded';
  return {
    method: prepared.method,
    path: prepared.path,
    headers,
    body: prepared.body,
    expect: prepared.expect,
  };
}

const form = (fields: Record<string, string>) => new URLSearchParams(fields).toString();

/** The sessions and facts the scenarios need, each made once and only when first asked for. */
export class Sessions {
  private readonly cache = new Map<string, Promise<unknown>>();

  constructor(
    readonly app: Target,
    readonly bare: Target,
    private readonly mail: MailCatcher,
    private readonly adminPassword: string,
    private readonly say: (line: string) => void,
  ) {}

  private once<T>(key: string, make: () => Promise<T>): Promise<T> {
    let value = this.cache.get(key) as Promise<T> | undefined;
    if (!value) {
      value = make();
      this.cache.set(key, value);
    }
    return value;
  }

  reader(): Promise<Browser> {
    return this.once('reader', () => signInRequester(this.app, this.mail, HEAVY_EMAIL, this.say));
  }

  /** A session of the bare server's floor reference (floor-router.ts), for the same requester. */
  floorReader(): Promise<Browser> {
    return this.once('floor-reader', async () => {
      const browser = new Browser(this.bare);
      expectStatus(await browser.get(FLOOR_SIGN_IN), 303, `GET ${FLOOR_SIGN_IN}`);
      return browser;
    });
  }

  writer(): Promise<Browser> {
    return this.once('writer', () => signInRequester(this.app, this.mail, WRITER_EMAIL, this.say));
  }

  agent(): Promise<Browser> {
    return this.once('agent', () => signInAgent(this.app, ADMIN_EMAIL, this.adminPassword));
  }

  /** The reference of the heavy requester's 200-message ticket, found by the agent's search. */
  longThreadRef(): Promise<string> {
    return this.once('long-thread', async () => {
      const agent = await this.agent();
      const query = new URLSearchParams({ q: LONG_THREAD_SUBJECT }).toString();
      const page = expectStatus(await agent.get(`/admin/tickets?${query}`), 200, 'inbox search');
      const href = linkOf(page.body, `a[href^="/admin/tickets/${BENCH_SLUG.toUpperCase()}-"]`);
      if (!href) throw new Error(`no ticket "${LONG_THREAD_SUBJECT}" in the bench workspace`);
      return href.slice('/admin/tickets/'.length);
    });
  }

  /** The heavy requester's list page reached by following "Older tickets" DEEP_PAGES times. */
  deepPage(): Promise<{ path: string; depth: number }> {
    return this.once('deep-page', async () => {
      const reader = await this.reader();
      let path = '/tickets';
      let depth = 0;
      while (depth < DEEP_PAGES) {
        const page = expectStatus(await reader.get(path), 200, `GET ${path}`);
        const next = linkOf(page.body, 'a[rel="next"]');
        if (!next) break;
        path = next;
        depth += 1;
      }
      return { path, depth };
    });
  }

  /** A fresh ticket of the writer's for the reply scenario, and its page's reply form token. */
  replyTicket(): Promise<{ path: string; csrf: string }> {
    return this.once('reply-ticket', async () => {
      const writer = await this.writer();
      const newForm = expectStatus(await writer.get('/tickets/new'), 200, 'GET /tickets/new');
      const created = await writer.post('/tickets/new', {
        _csrf: csrfOf(newForm.body, '/tickets/new'),
        subject: 'Replies from npm run bench',
        description: 'This ticket collects the reply scenario of npm run bench.',
      });
      expectStatus(created, 303, 'POST /tickets/new');
      const path = created.headers.location ?? '';
      const page = expectStatus(await writer.get(path), 200, `GET ${path}`);
      return { path, csrf: csrfOf(page.body, `${path}/replies`) };
    });
  }

  /** An anonymous browser that has loaded the sign-in form, and the form's token. */
  async signinForm(): Promise<{ browser: Browser; csrf: string }> {
    const browser = new Browser(this.app);
    const page = expectStatus(await browser.get(PORTAL_LOGIN), 200, `GET ${PORTAL_LOGIN}`);
    return { browser, csrf: csrfOf(page.body, PORTAL_LOGIN) };
  }
}

function signinPost(email: string) {
  return async (s: Sessions): Promise<Prepared> => {
    const { browser, csrf } = await s.signinForm();
    return {
      method: 'POST',
      path: PORTAL_LOGIN,
      from: browser,
      body: form({ _csrf: csrf, email }),
      expect: 200,
      marker: email,
    };
  };
}

/** The scenario every ratio is taken against. */
export const BASELINE_SCENARIO = 'bare-list';

/** The baseline and the floor, then reads, then writes: the order of every round. */
export const scenarios: Scenario[] = [
  {
    name: BASELINE_SCENARIO,
    label: 'Bare baseline: 25 rows, one query, one template',
    server: 'bare',
    write: false,
    target: { kind: 'none' },
    prepare: () => Promise.resolve({ method: 'GET', path: '/', expect: 200, marker: '<table' }),
  },
  {
    name: 'bare-floor',
    label: 'Floor: the baseline + session, CSRF, helmet',
    server: 'bare',
    write: false,
    target: { kind: 'none' },
    prepare: async (s) => ({
      method: 'GET',
      path: '/floor',
      from: await s.floorReader(),
      expect: 200,
      marker: 'name="_csrf"',
    }),
  },
  {
    name: 'portal-list',
    label: 'Portal: ticket list, first page',
    server: 'app',
    write: false,
    target: pageTarget,
    prepare: async (s) => ({
      method: 'GET',
      path: '/tickets',
      from: await s.reader(),
      expect: 200,
      marker: `Signed in as ${HEAVY_EMAIL}`,
    }),
  },
  {
    name: 'portal-list-deep',
    label: `Portal: ticket list, deep keyset page`,
    server: 'app',
    write: false,
    target: pageTarget,
    prepare: async (s) => ({
      method: 'GET',
      path: (await s.deepPage()).path,
      from: await s.reader(),
      expect: 200,
      marker: `Signed in as ${HEAVY_EMAIL}`,
    }),
  },
  {
    name: 'portal-ticket',
    label: 'Portal: ticket page, 200 messages',
    server: 'app',
    write: false,
    target: pageTarget,
    prepare: async (s) => ({
      method: 'GET',
      path: `/tickets/${await s.longThreadRef()}`,
      from: await s.reader(),
      expect: 200,
      marker: LONG_THREAD_SUBJECT,
    }),
  },
  {
    name: 'portal-signin-page',
    label: 'Portal: sign-in page, anonymous GET',
    server: 'app',
    write: false,
    target: pageTarget,
    prepare: () =>
      Promise.resolve({ method: 'GET', path: PORTAL_LOGIN, expect: 200, marker: 'name="email"' }),
  },
  {
    name: 'agent-inbox',
    label: 'Agent: inbox',
    server: 'app',
    write: false,
    target: agentPageTarget,
    prepare: async (s) => ({
      method: 'GET',
      path: '/admin/tickets',
      from: await s.agent(),
      expect: 200,
      marker: `${ADMIN_EMAIL}, `,
    }),
  },
  {
    name: 'agent-search-subject',
    label: `Agent: inbox search, subject substring "${SUBJECT_SUBSTRING}"`,
    server: 'app',
    write: false,
    target: searchTarget,
    prepare: async (s) => ({
      method: 'GET',
      path: `/admin/tickets?${form({ q: SUBJECT_SUBSTRING })}`,
      from: await s.agent(),
      expect: 200,
      marker: `/admin/tickets/${await s.longThreadRef()}"`,
    }),
  },
  {
    name: 'agent-search-email',
    label: 'Agent: inbox search, requester email',
    server: 'app',
    write: false,
    target: searchTarget,
    prepare: async (s) => ({
      method: 'GET',
      path: `/admin/tickets?${form({ q: HEAVY_EMAIL })}`,
      from: await s.agent(),
      expect: 200,
      marker: `href="/admin/tickets/${BENCH_SLUG.toUpperCase()}-`,
    }),
  },
  {
    name: 'agent-ticket',
    label: 'Agent: ticket page, 200 messages',
    server: 'app',
    write: false,
    target: agentPageTarget,
    prepare: async (s) => ({
      method: 'GET',
      path: `/admin/tickets/${await s.longThreadRef()}`,
      from: await s.agent(),
      expect: 200,
      marker: LONG_THREAD_SUBJECT,
    }),
  },
  {
    name: 'portal-signin-known',
    label: 'Portal: sign-in request POST, known address',
    server: 'app',
    write: true,
    target: signinPostTarget,
    prepare: signinPost(HEAVY_EMAIL),
  },
  {
    name: 'portal-signin-unknown',
    label: 'Portal: sign-in request POST, unknown address',
    server: 'app',
    write: true,
    target: signinPostTarget,
    prepare: signinPost(UNKNOWN_EMAIL),
  },
  {
    name: 'portal-new-ticket',
    label: 'Portal: new ticket POST',
    server: 'app',
    write: true,
    target: { kind: 'none' },
    prepare: async (s) => {
      const writer = await s.writer();
      const page = expectStatus(await writer.get('/tickets/new'), 200, 'GET /tickets/new');
      return {
        method: 'POST',
        path: '/tickets/new',
        from: writer,
        body: form({
          _csrf: csrfOf(page.body, '/tickets/new'),
          subject: 'A ticket from npm run bench',
          description: 'Opened by the new-ticket scenario of npm run bench.',
        }),
        expect: 303,
      };
    },
  },
  {
    name: 'portal-reply',
    label: 'Portal: reply POST',
    server: 'app',
    write: true,
    target: { kind: 'none' },
    prepare: async (s) => {
      const ticket = await s.replyTicket();
      return {
        method: 'POST',
        path: `${ticket.path}/replies`,
        from: await s.writer(),
        body: form({
          _csrf: ticket.csrf,
          body: 'A reply from the reply scenario of npm run bench.',
        }),
        expect: 303,
      };
    },
  },
];

/** The CSV export: not a load scenario, one streamed download (see csv-export.ts). */
export const EXPORT_SCENARIO = 'export';
export const EXPORT_PATH = '/admin/tickets/export.csv?status=closed';
