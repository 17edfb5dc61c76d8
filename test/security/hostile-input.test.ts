import assert from 'node:assert/strict';
import fc from 'fast-check';
import { defaultLimits } from '../../src/config';
import { brandVersion } from '../../src/services/branding';
import { hashPassword } from '../../src/services/passwords';
import { MIN_PASSWORD_LENGTH } from '../../src/services/user-accounts';
import { makeTestApp, type TestApp } from '../helpers/app';
import { Browser, csrfTokenOf, signInLinkOf } from '../helpers/client';
import { aRequester, aTicket, aWorkspace, anAgent, rows } from '../helpers/fixtures';
import {
  FORM_TYPE,
  POLLUTING_NAMES,
  encodeForm,
  formEscape,
  bodyShape,
  randomBytes,
  shapeBody,
  hostileContentType,
  hostileFields,
  hostileParts,
  multipartBody,
  hostileSegment,
  hostileString,
  lookalikeHost,
  sameHost,
  shapedNames,
  type Field,
} from '../helpers/hostile';
import { listen, type RawRequest, type RawResponse, type RawServer } from '../helpers/raw-http';

/*
 * Property-based tests over every form and route of both apps: generated hostile requests
 * (random Unicode, huge, repeated and array- or object-shaped fields, wrong content types and
 * charsets, odd methods, broken and duplicated cookies, look-alike hosts), mostly with a valid
 * session and CSRF token so that they reach the validation behind them. Whatever arrives:
 *   - the answer is the normal page (2xx/3xx) or a 4xx, never a 5xx, a stack trace or a logged error;
 *   - a refused request (4xx), and any GET, changes no stored row;
 *   - Object.prototype gains nothing.
 * Each run prints its seed; FC_SEED=<seed> replays it (FC_PATH=<path> with --grep replays one
 * counterexample as fast-check reports it; FC_RUNS=<n> runs more).
 */

const SEED = process.env.FC_SEED ? Number(process.env.FC_SEED) : Date.now() % 2 ** 31;
const REPLAY_PATH = process.env.FC_PATH;
const RUNS = process.env.FC_RUNS ? Number(process.env.FC_RUNS) : undefined;

function params(numRuns: number): fc.Parameters<unknown> {
  return { seed: SEED, path: REPLAY_PATH, numRuns: RUNS ?? numRuns, endOnFailure: !!REPLAY_PATH };
}

const HOST = 'acme.localhost';
const SAFE = new Set(['GET', 'HEAD', 'OPTIONS']);

/** The signed-in (or anonymous) browsers whose cookies and CSRF tokens requests borrow. */
type Who = 'requester' | 'visitor' | 'anonPortal' | 'admin' | 'anonAdmin' | 'nobody';

interface Identity {
  cookies: [string, string][];
  token: string;
}

interface World {
  t: TestApp;
  server: RawServer;
  who: Record<Who, Identity>;
  /** Jo's ticket, the visitor's, and one of another workspace. */
  ref: string;
  visitorRef: string;
  otherRef: string;
  signInToken: string;
  /** Jo's requester id, for the admin's erasure route. */
  requesterId: string;
  brand: string;
  logo: string;
  /** The rows the fixtures made, to put back after a request that was allowed to change them. */
  baseline: Record<string, unknown[]>;
  /** What is stored now, as of the end of the last request. */
  state: StoredState;
}

// scrypt is slow on busy cores: one hash for every test's admin.
const PASSWORD = 'correct horse battery staple';
let passwordHash: Promise<string> | undefined;

/** Tables whose rows a request could change, except rate_limits (a refusal may count). */
const STATE_TABLES = [
  'workspaces',
  'users',
  'requesters',
  'tickets',
  'messages',
  'ticket_events',
  'login_tokens',
  'ticket_confirmations',
  'mail_outbox',
  'portal_sessions',
  'admin_sessions',
];

/** One fingerprint of every stored row a request could change. */
async function stateDigest(): Promise<string> {
  const parts = STATE_TABLES.map(
    (table) =>
      `(select md5(coalesce(string_agg(r::text, ',' order by r::text), '')) from ${table} r)`,
  );
  const [row] = await rows<{ digest: string }>(
    `select concat_ws(':', ${parts.join(', ')}) as digest`,
  );
  return row!.digest;
}

/**
 * The next transaction id PostgreSQL will hand out: only a transaction that writes takes one, so
 * while it stands still nothing was written and the digest need not be computed again.
 */
async function nextXid(): Promise<string> {
  const [row] = await rows<{ xmax: string }>(
    'select pg_snapshot_xmax(pg_current_snapshot())::text as xmax',
  );
  return row!.xmax;
}

interface StoredState {
  xid: string;
  digest: string;
}

async function storedState(): Promise<StoredState> {
  return { xid: await nextXid(), digest: await stateDigest() };
}

/** Whether stored rows differ from `before`; `now` is what they are after. */
async function changedSince(before: StoredState): Promise<{ changed: boolean; now: StoredState }> {
  const xid = await nextXid();
  if (xid === before.xid) return { changed: false, now: before };
  const now = { xid, digest: await stateDigest() };
  return { changed: now.digest !== before.digest, now };
}

const RESTORED: Record<string, string> = {
  workspaces: 'id',
  users: 'workspace_id, id',
  tickets: 'workspace_id, id',
  login_tokens: 'workspace_id, id',
  portal_sessions: 'sid',
  admin_sessions: 'sid',
};

async function snapshot(): Promise<Record<string, unknown[]>> {
  const result: Record<string, unknown[]> = {};
  for (const table of Object.keys(RESTORED)) result[table] = await rows(`select * from ${table}`);
  return result;
}

/**
 * Puts the fixtures back as they were, after a request that was allowed to change them (a valid
 * form, a sign-out, the portal switched off), so the next generated request meets the same
 * world. Rows added since (a new ticket, a new user) may stay: nothing depends on their absence.
 */
async function restore(world: World): Promise<void> {
  for (const [table, key] of Object.entries(RESTORED)) {
    const [first] = world.baseline[table] as Record<string, unknown>[];
    if (!first) continue;
    // The ticket counter only moves on: set back, it would hand out a number already taken.
    const columns = Object.keys(first).filter((c) => c !== 'ticket_seq');
    await rows(
      `insert into ${table} select * from json_populate_recordset(null::${table}, ?::json)
       on conflict (${key}) do update set ${columns.map((c) => `${c} = excluded.${c}`).join(', ')}`,
      [JSON.stringify(world.baseline[table])],
    );
  }
  await rows('delete from rate_limits');
}

function identityOf(browser: Browser, names: [string, string][], token: string): Identity {
  const cookies = names.flatMap(([name, path]): [string, string][] => {
    const value = browser.cookie(name, path);
    return value === undefined ? [] : [[name, value]];
  });
  return { cookies, token };
}

async function buildWorld(): Promise<World> {
  const t = makeTestApp();
  const acme = await aWorkspace('acme');
  const globex = await aWorkspace('globex');
  const jo = await aRequester(acme, 'jo@example.com', 'Jo');
  const ticket = await aTicket(acme, jo, { status: 'resolved' });
  const other = await aTicket(globex, await aRequester(globex, 'sam@example.com'));
  passwordHash ??= hashPassword(PASSWORD);
  await anAgent(acme, {
    email: 'alex@acme.test',
    role: 'admin',
    passwordHash: await passwordHash,
  });

  // A sign-in link left unused, for the routes that take one; the rate limits (counted in real
  // time) are emptied so Jo's own sign-in mail goes out within the same minute.
  const anon = new Browser(t);
  const anonToken = csrfTokenOf((await anon.get('/tickets/login')).text);
  await anon.submit('/tickets/login', '/tickets/login', { email: 'jo@example.com' });
  const [mail] = await t.deliverMail();
  const signInToken = new URL(signInLinkOf(mail!.text)).pathname.split('/').pop()!;
  await rows('delete from rate_limits');

  const requester = new Browser(t);
  await requester.signIn('jo@example.com');
  const requesterToken = csrfTokenOf((await requester.get('/tickets/new')).text);

  const visitor = new Browser(t);
  const opened = await visitor.submit('/tickets/new', '/tickets/new', {
    name: 'Vic',
    email: 'vic@example.com',
    subject: 'Lost',
    description: 'Help',
  });
  const visitorToken = csrfTokenOf((await visitor.get('/tickets/new')).text);

  const admin = new Browser(t);
  const signedIn = await admin.signInAgent('alex@acme.test', PASSWORD);
  assert.equal(signedIn.status, 303, 'the admin fixture signs in');
  const adminToken = csrfTokenOf((await admin.get('/admin/tickets/new')).text);
  const anonAdmin = new Browser(t);
  const anonAdminToken = csrfTokenOf((await anonAdmin.get('/admin/login')).text);

  const portalCookies: [string, string][] = [
    ['portal_sid', '/tickets'],
    ['portal_csrf', '/'],
  ];
  const adminCookies: [string, string][] = [
    ['admin_sid', '/admin'],
    ['admin_csrf', '/'],
  ];
  const world: World = {
    t,
    server: await listen(t.app),
    who: {
      requester: identityOf(requester, portalCookies, requesterToken),
      visitor: identityOf(visitor, portalCookies, visitorToken),
      anonPortal: identityOf(anon, portalCookies, anonToken),
      admin: identityOf(admin, adminCookies, adminToken),
      anonAdmin: identityOf(anonAdmin, adminCookies, anonAdminToken),
      nobody: { cookies: [], token: '' },
    },
    ref: ticket.reference,
    visitorRef: opened.headers.location!.split('/').pop()!,
    otherRef: other.reference,
    signInToken,
    requesterId: jo.id,
    brand: brandVersion(acme.primaryColor, acme.logoVersion),
    logo: String(acme.logoVersion),
    baseline: await snapshot(),
    state: await storedState(),
  };
  assert.equal(world.who.requester.cookies.length, 2, 'the requester has a session');
  assert.equal(world.who.admin.cookies.length, 2, 'the admin has a session');
  return world;
}

function cookieHeader(cookies: readonly [string, string][]): [string, string][] {
  return cookies.length ? [['Cookie', cookies.map(([n, v]) => `${n}=${v}`).join('; ')]] : [];
}

/** Snapshot of what the prototype of every plain object offers, to detect pollution. */
function prototypeKeys(): string {
  return JSON.stringify([
    Object.getOwnPropertyNames(Object.prototype),
    Object.getOwnPropertyNames(Array.prototype),
    Object.getOwnPropertyNames(Function.prototype),
  ]);
}
const CLEAN_PROTOTYPE = prototypeKeys();

function assertNoPollution(): void {
  assert.equal(prototypeKeys(), CLEAN_PROTOTYPE, 'no property added to a built-in prototype');
  assert.equal(({} as Record<string, unknown>).polluted, undefined, 'Object.prototype unpolluted');
}

function describeRequest(request: RawRequest): string {
  const body = request.body
    ? ` body ${JSON.stringify(request.body.toString('latin1').slice(0, 200))}`
    : '';
  return `${request.method} ${request.path.slice(0, 200)} ${JSON.stringify(request.headers).slice(0, 300)}${body}`;
}

/**
 * Sends one request and checks the invariants every request must keep. Returns the response so
 * a property can check more; puts the world back when the request was allowed to change it.
 */
async function sendChecked(world: World, request: RawRequest): Promise<RawResponse> {
  const what = describeRequest(request);
  const errorsBefore = world.t.logLines.length;
  const res = await world.server.send(request);
  const { changed, now } = await changedSince(world.state);
  world.state = now;
  const logged = world.t.logLines
    .slice(errorsBefore)
    .filter((line) => /"level":(50|60)/.test(line))
    .map((line) => line.slice(0, 500));
  assert.ok(res.status < 500, `never a 5xx, got ${res.status} for ${what}\n${logged.join('\n')}`);
  assert.deepEqual(logged, [], `no error logged for ${what}`);
  assert.doesNotMatch(res.text, /^\s*at\s.+[:(]/m, `no stack trace for ${what}`);
  assert.doesNotMatch(res.text, /node_modules|\/src\/|\.[jt]s:\d+/, `no source path for ${what}`);
  assertNoPollution();
  if (res.status >= 400 || SAFE.has(request.method)) {
    assert.ok(!changed, `a ${res.status} answer to ${request.method} changed stored rows: ${what}`);
  } else if (changed) {
    await restore(world);
    world.state = await storedState();
  }
  if (res.status === 429) {
    // Counted limits would otherwise refuse every later request of the run alike.
    await rows('delete from rate_limits');
    world.state = await storedState();
  }
  return res;
}

/* ---------- the forms of both apps ---------- */

type Kind = 'text' | 'multiline' | 'email' | 'enum' | 'password' | 'empty';

interface FieldSpec {
  name: string;
  kind: Kind;
  required: boolean;
  max?: number;
  min?: number;
  options?: readonly string[];
}

interface FormSpec {
  name: string;
  who: Who;
  path: (world: World) => string;
  fields: FieldSpec[];
  /** A submission that would be accepted, for mutations to break. */
  valid: Record<string, string>;
}

const L = defaultLimits;
const text = (name: string, max: number, required = true): FieldSpec => ({
  name,
  kind: 'text',
  required,
  max,
});
const multiline = (name: string, max: number, required = true): FieldSpec => ({
  name,
  kind: 'multiline',
  required,
  max,
});
const email: FieldSpec = { name: 'email', kind: 'email', required: true, max: L.email };
const choice = (name: string, options: readonly string[], required = true): FieldSpec => ({
  name,
  kind: 'enum',
  required,
  options,
});
const STATUSES = ['open', 'pending', 'resolved', 'closed'] as const;

const FORMS: FormSpec[] = [
  {
    name: 'portal sign-in request',
    who: 'anonPortal',
    path: () => '/tickets/login',
    fields: [email],
    valid: { email: 'jo@example.com' },
  },
  {
    // Without the key of its own sign-in request (this browser holds none), even a well-formed
    // code is refused: the form's every answer is a refusal that changes nothing.
    name: 'portal sign-in code',
    who: 'anonPortal',
    path: () => '/tickets/login/code',
    fields: [text('code', 20)],
    valid: { code: 'ABCD-EFGH' },
  },
  {
    name: 'portal new ticket, anonymous',
    who: 'anonPortal',
    path: () => '/tickets/new',
    fields: [
      text('name', L.name),
      email,
      text('subject', L.subject),
      multiline('description', L.body),
      { name: 'website', kind: 'empty', required: false },
    ],
    valid: {
      name: 'Sam',
      email: 'sam@example.com',
      subject: 'Jam',
      description: 'Paper',
      website: '',
    },
  },
  {
    name: 'portal new ticket, signed in',
    who: 'requester',
    path: () => '/tickets/new',
    fields: [text('subject', L.subject), multiline('description', L.body)],
    valid: { subject: 'Jam', description: 'Paper' },
  },
  {
    name: 'portal reply',
    who: 'requester',
    path: (w) => `/tickets/${w.ref}/replies`,
    fields: [multiline('body', L.body)],
    valid: { body: 'Thanks' },
  },
  {
    name: 'portal reply, visitor',
    who: 'visitor',
    path: (w) => `/tickets/${w.visitorRef}/replies`,
    fields: [multiline('body', L.body)],
    valid: { body: 'Thanks' },
  },
  {
    name: 'portal rating',
    who: 'requester',
    path: (w) => `/tickets/${w.ref}/rating`,
    fields: [choice('rating', ['1', '2', '3', '4', '5']), multiline('comment', L.comment, false)],
    valid: { rating: '4', comment: 'Quick' },
  },
  {
    name: 'agent sign-in',
    who: 'anonAdmin',
    path: () => '/admin/login',
    fields: [email, { name: 'password', kind: 'password', required: true, min: 1, max: 1024 }],
    valid: { email: 'alex@acme.test', password: PASSWORD },
  },
  {
    name: 'agent new ticket',
    who: 'admin',
    path: () => '/admin/tickets/new',
    fields: [email, text('name', L.name), text('subject', L.subject), multiline('body', L.body)],
    valid: { email: 'kim@example.com', name: 'Kim', subject: 'Phone', body: 'Call me' },
  },
  {
    name: 'agent reply',
    who: 'admin',
    path: (w) => `/admin/tickets/${w.ref}/replies`,
    fields: [
      choice('visibility', ['public', 'internal']),
      multiline('body', L.body),
      choice('replyStatus', ['', ...STATUSES], false),
    ],
    valid: { visibility: 'internal', body: 'Noted', replyStatus: '' },
  },
  {
    name: 'agent status',
    who: 'admin',
    path: (w) => `/admin/tickets/${w.ref}/status`,
    fields: [choice('status', STATUSES)],
    valid: { status: 'pending' },
  },
  {
    name: 'admin modules',
    who: 'admin',
    path: () => '/admin/settings/modules',
    fields: [choice('portal', ['on'], false)],
    valid: { portal: 'on' },
  },
  {
    name: 'admin branding',
    who: 'admin',
    path: () => '/admin/settings/branding',
    fields: [
      text('name', L.name),
      choice('colourPicker', ['', '#1d70b8'], false),
      choice('colour', ['', '#0b0c0c'], false),
    ],
    valid: { name: 'Acme Inc', colourPicker: '#1d70b8', colour: '' },
  },
  {
    name: 'portal preferences',
    who: 'requester',
    path: () => '/tickets/preferences',
    // A zone is sent as the option's place ("Tokyo") or, for UTC, its IANA name; '' follows the
    // workspace's.
    fields: [choice('timeZone', ['', 'UTC', 'Tokyo', 'Europe/Madrid'])],
    valid: { timeZone: 'Tokyo' },
  },
  {
    name: 'admin language and time zone',
    who: 'admin',
    path: () => '/admin/settings/regional',
    fields: [
      choice('defaultLanguage', ['en', 'es', 'de', 'ar']),
      choice('timeZone', ['UTC', 'Madrid', 'America/New_York']),
    ],
    valid: { defaultLanguage: 'es', timeZone: 'Madrid' },
  },
  {
    name: 'admin users',
    who: 'admin',
    path: () => '/admin/users',
    fields: [
      text('name', L.name),
      email,
      choice('role', ['admin', 'agent']),
      { name: 'password', kind: 'password', required: true, min: MIN_PASSWORD_LENGTH, max: 1024 },
    ],
    valid: { name: 'Pat', email: 'pat@acme.test', role: 'agent', password: PASSWORD },
  },
];

const FIELDLESS_POSTS: { who: Who; path: (w: World) => string }[] = [
  { who: 'requester', path: () => '/tickets/logout' },
  { who: 'requester', path: (w) => `/tickets/${w.ref}/solve` },
  { who: 'requester', path: (w) => `/tickets/${w.ref}/reopen` },
  { who: 'visitor', path: (w) => `/tickets/${w.visitorRef}/solve` },
  { who: 'visitor', path: (w) => `/tickets/${w.visitorRef}/reopen` },
  { who: 'anonPortal', path: (w) => `/tickets/login/${w.signInToken}` },
  { who: 'admin', path: () => '/admin/logout' },
  { who: 'admin', path: () => '/admin/settings/branding/logo/remove' },
  { who: 'requester', path: () => '/tickets/your-data/erasure' },
  { who: 'admin', path: (w) => `/admin/settings/erasure-requests/${w.requesterId}` },
];

/** Controls that no field accepts; multi-line fields accept tab, line feed and carriage return. */
const CONTROLS = [
  '\u0000',
  '\u0001',
  '\u0008',
  '\u000b',
  '\u000c',
  '\u001b',
  '\u007f',
  '\u0085',
  '\u009f',
];
const LINE_CONTROLS = ['\t', '\n', '\r'];
const LONE_SURROGATES = ['\ud800', '\udbff', '\udc00', '\udfff'];

/** A value that the field refuses whatever else the form holds (undefined: none exists). */
function invalidValue(field: FieldSpec): fc.Arbitrary<string> | undefined {
  const breakText = (controls: string[]) =>
    fc.oneof(
      fc.constantFrom(...controls, ...LONE_SURROGATES, '\ufffd').map((c) => `a${c}b`),
      fc.integer({ min: 1, max: 40 }).map((extra) => '\u00e9'.repeat((field.max ?? 0) + extra)),
      ...(field.required ? [fc.constantFrom('', ' ', ' \t\n ', '\u3000')] : []),
    );
  switch (field.kind) {
    case 'text':
      return breakText([...CONTROLS, ...LINE_CONTROLS]);
    case 'multiline':
      return breakText(CONTROLS);
    case 'email':
      return fc.oneof(
        fc.constantFrom(
          '',
          'jo',
          'jo@',
          '@example.com',
          'jo@example',
          'jo @example.com',
          'jo@@example.com',
        ),
        fc.constantFrom('<jo>@example.com', '"jo"@example.com', 'jo@example.com,kim@example.com'),
        fc.constantFrom(...CONTROLS, ...LONE_SURROGATES).map((c) => `jo${c}@example.com`),
        fc.constant(`${'j'.repeat(65)}@example.com`),
        fc.constant(`jo@${'e'.repeat(250)}.com`),
      );
    case 'enum':
      return hostileString(300).filter(
        (v) => !field.options!.includes(v.trim()) && !field.options!.includes(v),
      );
    case 'password':
      return fc.oneof(
        fc.constant(''),
        fc.constant('p'.repeat(1025)),
        ...(field.min && field.min > 1 ? [fc.constant('p'.repeat(field.min - 1))] : []),
      );
    case 'empty':
      return fc.constantFrom('x', 'http://spam.example', ' a ');
  }
}

type Mutation = (fields: Field[]) => Field[];

/** One change to a valid submission that makes it invalid, whatever the rest of it holds. */
function breakingMutation(form: FormSpec): fc.Arbitrary<{ label: string; mutate: Mutation }> {
  const perField = form.fields.flatMap((field) => {
    const others = (fields: Field[]) => fields.filter(([n]) => n !== field.name);
    const valid = form.valid[field.name] ?? '';
    const options: fc.Arbitrary<{ label: string; mutate: Mutation }>[] = [];
    const bad = invalidValue(field);
    if (bad)
      options.push(
        bad.map((v) => ({
          label: `${field.name}=${JSON.stringify(v.slice(0, 40))}`,
          mutate: (fields) => [...others(fields), [field.name, v]],
        })),
      );
    if (field.kind !== 'empty') {
      // Repeated: the parser makes it an array, which no field accepts.
      options.push(
        fc.constant({
          label: `${field.name} repeated`,
          mutate: (fields) => [...fields, [field.name, valid]],
        }),
      );
    }
    if (field.required) {
      options.push(
        fc.constant({ label: `${field.name} missing`, mutate: others }),
        fc.constantFrom(...shapedNames(field.name)).map((shaped) => ({
          label: `${field.name} sent as ${shaped}`,
          mutate: (fields: Field[]): Field[] => [...others(fields), [shaped, valid]],
        })),
      );
    }
    return options;
  });
  return fc.oneof(...perField);
}

function validFields(form: FormSpec): Field[] {
  return Object.entries(form.valid);
}

function formRequest(
  world: World,
  form: { who: Who; path: (w: World) => string },
  body: Buffer,
  contentType: string | undefined = FORM_TYPE,
  extra: [string, string][] = [],
): RawRequest {
  const me = world.who[form.who];
  return {
    method: 'POST',
    path: form.path(world),
    headers: [
      ['Host', HOST],
      ...cookieHeader(me.cookies),
      ...(contentType === undefined ? [] : ([['Content-Type', contentType]] as [string, string][])),
      ...extra,
    ],
    body,
  };
}

/** How the CSRF token travels: mostly right, in the body or the header; sometimes wrong or missing. */
const tokenPlacement = fc.oneof(
  { weight: 10, arbitrary: fc.constant('body' as const) },
  { weight: 3, arbitrary: fc.constant('header' as const) },
  { weight: 1, arbitrary: fc.constant('repeated' as const) },
  { weight: 1, arbitrary: fc.constant('garbage' as const) },
  { weight: 1, arbitrary: fc.constant('none' as const) },
);
type TokenPlacement = 'body' | 'header' | 'repeated' | 'garbage' | 'none';

function placeToken(
  token: string,
  placement: TokenPlacement,
  fields: Field[],
): { fields: Field[]; headers: [string, string][] } {
  switch (placement) {
    case 'body':
      return { fields: [['_csrf', token], ...fields], headers: [] };
    case 'header':
      return { fields, headers: [['X-CSRF-Token', token]] };
    case 'repeated':
      return { fields: [['_csrf', token], ['_csrf', token], ...fields], headers: [] };
    case 'garbage':
      return { fields: [['_csrf', `${token.slice(0, -2)}xx`], ...fields], headers: [] };
    case 'none':
      return { fields, headers: [] };
  }
}

/* ---------- every route ---------- */

const ROUTES: string[] = [
  '/',
  '/healthz',
  '/readyz',
  '/tickets',
  '/tickets/',
  '/tickets/login',
  '/tickets/login/code',
  '/tickets/login/{token}',
  '/tickets/logout',
  '/tickets/new',
  '/tickets/accessibility',
  '/tickets/{ref}',
  '/tickets/{ref}/replies',
  '/tickets/{ref}/rating',
  '/tickets/{ref}/solve',
  '/tickets/{ref}/reopen',
  '/tickets/{visitorRef}',
  '/tickets/your-data',
  '/tickets/your-data/all',
  '/tickets/your-data/all.json',
  '/tickets/your-data/erasure',
  '/tickets/preferences',
  '/tickets/{visitorRef}/confirmation-link',
  '/tickets/confirm/{token}',
  '/tickets/confirm/done',
  '/tickets/brand/{brand}.css',
  '/tickets/brand/logo-{logo}',
  '/admin',
  '/admin/login',
  '/admin/logout',
  '/admin/tickets',
  '/admin/tickets/export.csv',
  '/admin/tickets/new',
  '/admin/tickets/{ref}',
  '/admin/tickets/{ref}/replies',
  '/admin/tickets/{ref}/status',
  '/admin/settings/modules',
  '/admin/settings/branding',
  '/admin/settings/branding/logo',
  '/admin/settings/branding/logo/remove',
  '/admin/settings/branding/contact',
  '/admin/settings/branding/preview-{brand}.css',
  '/admin/settings/regional',
  '/admin/users',
  '/admin/settings/erasure-requests',
  '/admin/settings/erasure-requests/{requester}',
  '/assets/css/portal.css',
  '/assets/../package.json',
];

const METHODS = [
  'GET',
  'HEAD',
  'POST',
  'PUT',
  'DELETE',
  'PATCH',
  'OPTIONS',
  'TRACE',
  'PROPFIND',
  'PURGE',
  'SEARCH',
  'FOO',
];

const WHO: Who[] = ['requester', 'visitor', 'anonPortal', 'admin', 'anonAdmin', 'nobody'];

/** A placeholder filled with the real value, another workspace's, or something hostile. */
function fillRoute(world: World, route: string, pick: string): string {
  return route.replace(/\{(\w+)\}/g, (_, name: string) => {
    if (pick !== 'real' && pick !== 'other') return pick;
    switch (name) {
      case 'ref':
        return pick === 'real' ? world.ref : world.otherRef;
      case 'visitorRef':
        return pick === 'real' ? world.visitorRef : world.otherRef;
      case 'token':
        return world.signInToken;
      case 'requester':
        return pick === 'real' ? world.requesterId : '00000000-0000-4000-8000-000000000000';
      case 'brand':
        return world.brand;
      default:
        return world.logo;
    }
  });
}

const segmentChoice = fc.oneof(
  { weight: 2, arbitrary: fc.constant('real') },
  { weight: 1, arbitrary: fc.constant('other') },
  { weight: 2, arbitrary: hostileSegment },
);

const queryString: fc.Arbitrary<string> = fc
  .array(
    fc.tuple(
      fc.constantFrom(
        'after',
        'before',
        'q',
        'status',
        'after[]',
        'q[x]',
        'status[]',
        ...POLLUTING_NAMES,
      ),
      fc.oneof(
        fc.constantFrom('open', 'resolved', '', 'ACME-1001', 'MjAyNi0xMS0yNVQxMDowMDowMC4wMDBa'),
        hostileString(3_000),
      ),
    ),
    { maxLength: 4 },
  )
  .map((pairs) => (pairs.length ? `?${encodeForm(pairs)}` : ''));

/** Headers a browser would not send like this. */
const ODD_HEADERS: [string, string][] = [
  ['Origin', 'http://evil.example'],
  ['Origin', 'null'],
  ['Origin', 'http://acme.localhost:3000'],
  ['Sec-Fetch-Site', 'cross-site'],
  ['Sec-Fetch-Site', 'same-origin'],
  ['Content-Encoding', 'gzip'],
  ['Content-Encoding', 'deflate'],
  ['Content-Encoding', 'br, x-unknown'],
  ['Accept', 'application/json'],
  ['Accept-Charset', 'utf-16'],
  ['Range', 'bytes=5-2'],
  ['If-None-Match', '*'],
  ['X-Forwarded-Host', 'evil.example'],
  ['X-Forwarded-For', '1.2.3.4, <script>'],
  ['X-HTTP-Method-Override', 'DELETE'],
];

/** Mostly none, so that most requests get past the checks these headers trip. */
const oddHeaders: fc.Arbitrary<[string, string][]> = fc.oneof(
  { weight: 2, arbitrary: fc.constant<[string, string][]>([]) },
  { weight: 1, arbitrary: fc.subarray(ODD_HEADERS, { maxLength: 3 }) },
);

/* ---------- cookies ---------- */

function hostileCookies(world: World): fc.Arbitrary<[string, string][]> {
  const real = Object.values(world.who).flatMap((me) => me.cookies);
  const names = [
    'portal_sid',
    'admin_sid',
    'portal_csrf',
    'admin_csrf',
    'portal_flash',
    'admin_flash',
    'portal_signin_code',
  ];
  const pair = fc.oneof(
    { weight: 3, arbitrary: fc.constantFrom(...real) },
    {
      weight: 3,
      arbitrary: fc.tuple(
        fc.constantFrom(...names),
        fc.oneof(
          fc.constantFrom(
            '',
            's:',
            's%3A',
            's%3Aabc.def',
            's%3A%E0%A4%A.x',
            'j:{"__proto__":{"polluted":1}}',
            'j%3A%7B%22__proto__%22%3A%7B%22polluted%22%3A1%7D%7D',
            'j:[',
            '%',
            '%FF',
            'deleted',
          ),
          fc.constantFrom(...real).map(([, v]) => `${v.slice(0, -3)}xyz`),
          fc.constantFrom(...real).map(([, v]) => `${v}${v}`),
          fc.integer({ min: 4_000, max: 9_000 }).map((n) => 'x'.repeat(n)),
          hostileString(300).map(formEscape),
        ),
      ),
    },
    {
      weight: 1,
      arbitrary: fc.tuple(
        fc.constantFrom(
          '',
          '__proto__',
          'constructor',
          ' portal_sid',
          'portal_sid ',
          'PORTAL_SID',
          '$Path',
        ),
        fc.constantFrom('1', 's%3Aabc.def', '{}'),
      ),
    },
  );
  return fc.array(pair, { minLength: 1, maxLength: 6 });
}

/* ---------- the properties ---------- */

describe('hostile input, generated (fast-check)', function () {
  this.timeout(120_000);
  let world: World;

  before(() => {
    process.stdout.write(
      `      fast-check seed: FC_SEED=${SEED} (replay: FC_SEED=${SEED} npx mocha test/security/hostile-input.test.ts)\n`,
    );
  });

  beforeEach(async () => {
    world = await buildWorld();
  });

  afterEach(async () => {
    await world?.server.close();
  });

  it('every form, given random fields in any shape and encoding, answers a page or a 4xx and a refusal changes nothing', async () => {
    const arbitrary = fc.constantFrom(...FORMS).chain((form) =>
      fc.record({
        form: fc.constant(form),
        fields: hostileFields(form.fields.map((f) => f.name)),
        token: tokenPlacement,
        contentType: fc.oneof(
          { weight: 8, arbitrary: fc.constant(FORM_TYPE) },
          { weight: 2, arbitrary: hostileContentType },
        ),
        shape: bodyShape,
        bytes: randomBytes,
      }),
    );
    await fc.assert(
      fc.asyncProperty(arbitrary, async (input) => {
        const placed = placeToken(world.who[input.form.who].token, input.token, input.fields);
        const body = shapeBody(input.shape, placed.fields, input.bytes);
        await sendChecked(
          world,
          formRequest(world, input.form, body, input.contentType, placed.headers),
        );
      }),
      params(200),
    );
  });

  it('a form made invalid by one change (a bad, missing, repeated or reshaped field) is refused and changes nothing', async () => {
    const arbitrary = fc.constantFrom(...FORMS).chain((form) =>
      fc.record({
        form: fc.constant(form),
        mutation: breakingMutation(form),
        order: fc.boolean(),
      }),
    );
    await fc.assert(
      fc.asyncProperty(arbitrary, async ({ form, mutation, order }) => {
        const fields = mutation.mutate(validFields(form));
        if (order) fields.reverse();
        const token = world.who[form.who].token;
        const body = Buffer.from(encodeForm([['_csrf', token], ...fields]));
        const res = await sendChecked(world, formRequest(world, form, body));
        assert.ok(
          res.status >= 400 && res.status < 500,
          `${form.name} with ${mutation.label}: refused, got ${res.status}`,
        );
      }),
      params(200),
    );
  });

  it('a form body in the wrong charset, type or encoding, not UTF-8, with too many fields or too large is refused and changes nothing', async () => {
    type Breakage = {
      label: string;
      type: string;
      encoding?: string;
      body: (form: Field[]) => string | Buffer;
    };
    const form = (fields: Field[]) => encodeForm(fields);
    const breakages: Breakage[] = [
      ...['utf-16', 'utf-16le', 'iso-8859-1', 'x-unknown'].map((charset) => ({
        label: `charset=${charset}`,
        type: `${FORM_TYPE}; charset=${charset}`,
        body: form,
      })),
      {
        label: 'JSON',
        type: 'application/json',
        body: (f) => JSON.stringify(Object.fromEntries(f)),
      },
      { label: 'text/plain', type: 'text/plain', body: form },
      { label: 'gzip that is not', type: FORM_TYPE, encoding: 'gzip', body: form },
      { label: 'unknown encoding', type: FORM_TYPE, encoding: 'x-unknown', body: form },
      ...LONE_SURROGATES.map((lone) => ({
        label: `a lone surrogate U+${lone.charCodeAt(0).toString(16)} as bytes`,
        type: FORM_TYPE,
        body: (f: Field[]) => form(f.map(([n, v]): Field => [n, `${v}${lone}x`])),
      })),
      {
        label: 'bytes that are not UTF-8',
        type: FORM_TYPE,
        body: (f) => f.map(([n, v]) => `${formEscape(n)}=${formEscape(v)}%FF%FE%C0%80`).join('&'),
      },
      {
        label: 'more than 50 fields',
        type: FORM_TYPE,
        body: (f) => `${form(f)}&${Array.from({ length: 51 }, (_, i) => `f${i}=1`).join('&')}`,
      },
      {
        label: 'over 64 KiB',
        type: FORM_TYPE,
        body: (f) => `${form(f)}&pad=${'a'.repeat(defaultLimits.requestBytes)}`,
      },
    ];
    const arbitrary = fc.record({
      form: fc.constantFrom(...FORMS.filter((f) => f.fields.some((field) => field.required))),
      breakage: fc.constantFrom(...breakages),
    });
    await fc.assert(
      fc.asyncProperty(arbitrary, async ({ form: spec, breakage }) => {
        const token = world.who[spec.who].token;
        const headers: [string, string][] = [['X-CSRF-Token', token]];
        if (breakage.encoding) headers.push(['Content-Encoding', breakage.encoding]);
        const body = Buffer.from(breakage.body(validFields(spec)));
        const res = await sendChecked(
          world,
          formRequest(world, spec, body, breakage.type, headers),
        );
        assert.ok(
          res.status >= 400 && res.status < 500,
          `${spec.name}, ${breakage.label}: got ${res.status}`,
        );
      }),
      params(60),
    );
  });

  it('every page given any query string answers a page or a 4xx and writes nothing', async () => {
    const pages: [Who, string][] = [
      ['requester', '/tickets'],
      ['visitor', '/tickets'],
      ['requester', '/tickets/{ref}'],
      ['visitor', '/tickets/{visitorRef}'],
      ['anonPortal', '/tickets/login/{token}'],
      ['admin', '/admin/tickets'],
      ['admin', '/admin/tickets/export.csv'],
      ['admin', '/admin/tickets/{ref}'],
      ['admin', '/admin/users'],
    ];
    const arbitrary = fc.record({
      page: fc.constantFrom(...pages),
      query: queryString,
      head: fc.boolean(),
    });
    await fc.assert(
      fc.asyncProperty(arbitrary, async ({ page: [who, route], query, head }) => {
        await sendChecked(world, {
          method: head ? 'HEAD' : 'GET',
          path: `${fillRoute(world, route, 'real')}${query}`,
          headers: [['Host', HOST], ...cookieHeader(world.who[who].cookies)],
        });
      }),
      params(120),
    );
  });

  it('every route, any method, session, path, query, header and body, answers a page or a 4xx and a refusal changes nothing', async () => {
    const arbitrary = fc.record({
      route: fc.constantFrom(...ROUTES),
      segment: segmentChoice,
      query: queryString,
      method: fc.oneof(
        { weight: 4, arbitrary: fc.constantFrom('GET', 'POST') },
        { weight: 3, arbitrary: fc.constantFrom(...METHODS) },
      ),
      who: fc.constantFrom(...WHO),
      token: tokenPlacement,
      contentType: hostileContentType,
      fields: hostileFields(['body', 'subject', 'status', 'email']),
      headers: oddHeaders,
      shape: bodyShape,
      bytes: randomBytes,
    });
    await fc.assert(
      fc.asyncProperty(arbitrary, async (input) => {
        const me = world.who[input.who];
        const placed = placeToken(me.token, input.token, input.fields);
        const body = shapeBody(input.shape, placed.fields, input.bytes);
        const withBody = !['GET', 'HEAD'].includes(input.method);
        await sendChecked(world, {
          method: input.method,
          path: `${fillRoute(world, input.route, input.segment)}${input.query}`,
          headers: [
            ['Host', HOST],
            ...cookieHeader(me.cookies),
            ...(withBody && input.contentType !== undefined
              ? ([['Content-Type', input.contentType]] as [string, string][])
              : []),
            ...placed.headers,
            ...input.headers,
          ],
          body: withBody ? body : undefined,
        });
      }),
      params(250),
    );
  });

  it('the logo upload, given any parts answers a page or a 4xx and a refusal changes nothing', async () => {
    const arbitrary = fc.record({
      parts: hostileParts('logo', world.who.admin.token),
      boundary: fc.constantFrom('b', 'x'.repeat(70), '----WebKitFormBoundary7MA4YWxkTrZu0gW'),
      declared: fc.oneof(
        { weight: 4, arbitrary: fc.constant('same') },
        { weight: 1, arbitrary: fc.constantFrom('other', 'none') },
      ),
      close: fc.oneof({ weight: 4, arbitrary: fc.constant(true) }, fc.constant(false)),
      header: fc.boolean(),
    });
    await fc.assert(
      fc.asyncProperty(arbitrary, async ({ parts, boundary, declared, close, header }) => {
        const type =
          declared === 'none'
            ? 'multipart/form-data'
            : `multipart/form-data; boundary=${declared === 'same' ? boundary : 'other'}`;
        const extra: [string, string][] = header ? [['X-CSRF-Token', world.who.admin.token]] : [];
        await sendChecked(
          world,
          formRequest(
            world,
            { who: 'admin', path: () => '/admin/settings/branding/logo' },
            multipartBody(boundary, parts, close),
            type,
            extra,
          ),
        );
      }),
      params(100),
    );
  });

  it('the ticket forms that take files, given any parts, answer a page or a 4xx and a refusal changes nothing', async () => {
    const withFiles = FORMS.filter((f) =>
      /^(portal new ticket|portal reply|agent new ticket|agent reply)/.test(f.name),
    );
    assert.equal(withFiles.length, 6);
    const arbitrary = fc.constantFrom(...withFiles).chain((form) =>
      fc.record({
        form: fc.constant(form),
        parts: hostileParts('attachments', world.who[form.who].token),
        // The form's own fields, valid, ahead of the rest: some submissions then succeed.
        valid: fc.boolean(),
        close: fc.oneof({ weight: 4, arbitrary: fc.constant(true) }, fc.constant(false)),
      }),
    );
    await fc.assert(
      fc.asyncProperty(arbitrary, async ({ form, parts, valid, close }) => {
        const fields = valid
          ? Object.entries(form.valid).map(([name, value]) => ({
              name,
              content: Buffer.from(value),
            }))
          : [];
        const boundary = '----hostile';
        await sendChecked(
          world,
          formRequest(
            world,
            form,
            multipartBody(boundary, [...fields, ...parts], close),
            `multipart/form-data; boundary=${boundary}`,
          ),
        );
      }),
      params(120),
    );
  });

  it('broken, duplicated, over-long and planted cookies get a page or a 4xx and a refusal changes nothing', async () => {
    const forms: Pick<FormSpec, 'who' | 'path' | 'valid'>[] = [
      ...FORMS,
      ...FIELDLESS_POSTS.map((p) => ({ ...p, valid: {} })),
    ];
    const arbitrary = fc.record({
      cookies: hostileCookies(world),
      split: fc.boolean(),
      get: fc.boolean(),
      form: fc.constantFrom(...forms),
      token: fc.constantFrom(...WHO.map((w) => world.who[w].token)),
    });
    await fc.assert(
      fc.asyncProperty(arbitrary, async ({ cookies, split, get, form, token }) => {
        const cookieHeaders: [string, string][] = split
          ? cookies.map(([n, v]): [string, string] => ['Cookie', `${n}=${v}`])
          : cookieHeader(cookies);
        const path = form.path(world);
        const request: RawRequest = get
          ? {
              method: 'GET',
              path: path.replace(/\/(replies|rating|solve|reopen|logout|remove)$/, ''),
              headers: [['Host', HOST], ...cookieHeaders],
            }
          : {
              method: 'POST',
              path,
              headers: [['Host', HOST], ['Content-Type', FORM_TYPE], ...cookieHeaders],
              body: Buffer.from(encodeForm([['_csrf', token], ...Object.entries(form.valid)])),
            };
        await sendChecked(world, request);
      }),
      params(150),
    );
  });

  it('a host that only ends (or starts) like a workspace host reaches no workspace', async () => {
    const arbitrary = fc.record({
      host: fc.oneof(
        { weight: 3, arbitrary: lookalikeHost(HOST) },
        { weight: 1, arbitrary: sameHost(HOST) },
      ),
      route: fc.constantFrom(
        ...ROUTES.filter((r) => r.startsWith('/tickets') || r.startsWith('/admin')),
      ),
      who: fc.constantFrom(...WHO),
      method: fc.constantFrom('GET', 'POST'),
    });
    await fc.assert(
      fc.asyncProperty(arbitrary, async ({ host, route, who, method }) => {
        const me = world.who[who];
        const res = await sendChecked(world, {
          method,
          path: fillRoute(world, route, 'real'),
          headers: [
            ['Host', host],
            ...cookieHeader(me.cookies),
            ...(method === 'POST'
              ? ([
                  ['Content-Type', FORM_TYPE],
                  ['X-CSRF-Token', me.token],
                ] as [string, string][])
              : []),
          ],
          body: method === 'POST' ? Buffer.from('') : undefined,
        });
        const hostname = host.replace(/:\d*$/, '').toLowerCase();
        if (hostname !== HOST) {
          assert.ok(
            res.status >= 400 && res.status < 500,
            `Host ${JSON.stringify(host)}: got ${res.status}`,
          );
        }
      }),
      params(120),
    );
  });
});
