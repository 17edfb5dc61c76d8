import connectPgSimple from 'connect-pg-simple';
import session from 'express-session';
import type { Request, RequestHandler, Response } from 'express';
import type pg from 'pg';
import type { Config } from '../config';
import { depsOf } from '../deps';
import type { SessionTable } from '../models/sessions';
import { randomId } from '../services/random-ids';

declare module 'express-session' {
  interface SessionData {
    workspaceId: string;
    requesterId: string;
    /** The signed-in requester's address (it never changes), shown on every page. */
    requesterEmail: string;
    /** The requester's chosen time zone, kept here so pages need not look it up; absent: the workspace's. */
    requesterTimeZone: string;
    /** Agent app only: the signed-in user. */
    userId: string;
    /** Tickets an anonymous visitor opened in this session: all it may ever see. */
    visitorTicketIds: string[];
    signedInAt: number;
    lastSeenAt: number;
  }
}

const PgStore = connectPgSimple(session);

/**
 * connect-pg-simple's store, except that a row the tenant middleware already read (in the same
 * round trip as the workspace: see findWithSession) is taken as it is instead of read again.
 * Everything else (writes, destroys, and any read not prefetched) is the store's own.
 */
export class SessionStore extends PgStore {
  readonly #prefetched = new Map<string, session.SessionData | null>();

  constructor(
    pool: pg.Pool,
    readonly options: SessionOptions,
  ) {
    super({
      pool,
      tableName: options.table,
      createTableIfMissing: false,
      disableTouch: true,
      // Its default prints every failed query to the console: during a database outage, one per
      // request. The error also reaches the request, whose handler reports it (a 503, logged
      // once per outage; any other failure is logged as a 500).
      errorLog: () => undefined,
      // Expired rows are deleted by the cluster's one housekeeper, not by a timer per instance.
      pruneSessionInterval: false,
    });
  }

  /** The row found for `sid` (null: none live), for this request's session middleware to take. */
  prefetch(sid: string, row: unknown): void {
    let data: session.SessionData | null = null;
    try {
      data = (typeof row === 'string' ? JSON.parse(row) : row) as session.SessionData | null;
    } catch {
      // A row that does not parse reads as no session, as the store's own read treats it.
    }
    this.#prefetched.set(sid, data);
  }

  /** A prefetched row the session middleware did not take is not kept. */
  discard(sid: string): void {
    this.#prefetched.delete(sid);
  }

  override get(
    sid: string,
    callback: (error: unknown, data?: session.SessionData | null) => void,
  ): void {
    if (!this.#prefetched.has(sid)) {
      super.get(sid, callback);
      return;
    }
    const data = this.#prefetched.get(sid) ?? null;
    this.#prefetched.delete(sid);
    callback(null, data);
  }
}

/** The portal's own cookie and table; the agent app has its own pair. */
export const portalSession: SessionOptions = {
  name: 'portal_sid',
  path: '/tickets',
  table: 'portal_sessions',
  csrfCookie: 'portal_csrf',
  flashCookie: 'portal_flash',
};

export const adminSession: SessionOptions = {
  name: 'admin_sid',
  path: '/admin',
  table: 'admin_sessions',
  csrfCookie: 'admin_csrf',
  flashCookie: 'admin_flash',
};

export interface SessionOptions {
  /** Cookie name, e.g. portal_sid. */
  name: string;
  /** Cookie path: each app's cookie is sent to that app alone. */
  path: string;
  /** Store table: each app has its own. */
  table: SessionTable;
  /** The app's CSRF secret lives in this cookie, not in a session row (see middleware/csrf.ts). */
  csrfCookie: string;
  /** A one-time notice for the page after a POST ("Your reply was sent"). */
  flashCookie: string;
}

declare module 'express-serve-static-core' {
  interface Locals {
    /** Which app's cookies this request uses. */
    sessionOptions: SessionOptions;
  }
}

/** One app's session: its own cookie, path and table, never shared with the other app. */
export function sessions(config: Config, store: SessionStore): RequestHandler[] {
  const options = store.options;
  const remember: RequestHandler = (_req, res, next) => {
    res.locals.sessionOptions = options;
    next();
  };
  const load = session({
    name: options.name,
    // The first signs; the older ones are still accepted, so rotating the secret signs no one out.
    secret: config.secrets,
    // 24 random bytes, as express-session's own ids, from a pool (services/random-ids.ts): an
    // id is made for every request without a cookie, though few are ever saved.
    genid: () => randomId(24),
    // A read must not write: no touch of the row on every request (disableTouch), no new cookie on
    // every response (rolling: false). Activity is written by liveSession, at most once a minute,
    // and every such save sends the cookie again with a fresh idle expiry.
    store,
    resave: false,
    saveUninitialized: false,
    rolling: false,
    unset: 'destroy',
    proxy: config.trustProxy !== false,
    cookie: {
      path: options.path,
      httpOnly: true,
      sameSite: 'lax',
      secure: config.secureCookies,
      maxAge: config.sessions.idleMs,
    },
  });
  // A request without this app's cookie has no session to load, and most never start one (sessions
  // begin only at a sign-in, a new ticket or an agent's sign-in, all POSTs), so it skips
  // express-session's work (an id, a cookie object, two hashes of them and hooks on the response:
  // a twentieth of an anonymous page's CPU, a fifteenth of a sign-in request's). A read gets an
  // empty session that refuses to be saved; a write, one that starts a real session the moment
  // its handler asks for a fresh one. Anything that might be this cookie, in any spelling, goes
  // the usual way.
  const loadOrNone: RequestHandler = (req, res, next) => {
    if (req.headers.cookie?.includes(options.name)) {
      void load(req, res, next);
      return;
    }
    req.session = isRead(req) ? noSession : sessionOnDemand(req, res, load);
    next();
  };
  return [
    remember,
    loadOrNone,
    // The session middleware has taken the prefetched row, or had no use for it (a cookie it
    // would not read): either way, none is kept past this point.
    (req, _res, next) => {
      const sid = (req.signedCookies as Record<string, unknown>)[options.name];
      if (typeof sid === 'string') store.discard(sid);
      next();
    },
  ];
}

function isRead(req: Request): boolean {
  return req.method === 'GET' || req.method === 'HEAD';
}

/** Like express-session's methods: an error to the callback if there is one, else thrown. */
function refuse(callback?: (error: unknown) => void): void {
  const error = new Error('a read without a session cookie cannot start or change a session');
  if (!callback) throw error;
  callback(error);
}

/**
 * The session of a read that brought no session cookie: nothing in it, and frozen, so anything
 * that tries to write one where none may begin fails loudly instead of silently doing nothing.
 */
export const noSession = Object.freeze({
  id: '',
  regenerate: refuse,
  destroy: refuse,
  reload: refuse,
  save: refuse,
  touch: refuse,
  resetMaxAge: refuse,
}) as unknown as Request['session'];

/**
 * The session of a write that brought no session cookie: as empty as a fresh one, and frozen like
 * `noSession`, until its handler asks for a fresh session (`regenerate`: a sign-in or a new
 * ticket). Only then does express-session run, making a new session exactly as it would have at
 * the start of the request: new id, cookie set on the answer, saved when the handler saves it.
 * Destroying it (signing out without a session) has nothing to delete.
 */
function sessionOnDemand(req: Request, res: Response, load: RequestHandler): Request['session'] {
  const regenerate = (callback: (error?: unknown) => void) => {
    // express-session leaves a request alone that already has a session.
    req.session = undefined as unknown as Request['session'];
    void load(req, res, (error?: unknown) => callback(error));
  };
  const destroy = (callback?: (error?: unknown) => void) => callback?.();
  return Object.freeze({ ...noSession, regenerate, destroy }) as unknown as Request['session'];
}

type SessionAge = 'none' | 'live' | 'expired';

/** Whether the session is signed in and neither idle too long nor past its maximum age. */
function sessionAge(req: Request): SessionAge {
  const { signedInAt, lastSeenAt } = req.session;
  if (signedInAt === undefined) return 'none';
  const limits = depsOf(req).config.sessions;
  const now = depsOf(req).clock.now().getTime();
  const idleFor = now - (lastSeenAt ?? signedInAt);
  return now - signedInAt >= limits.absoluteMs || idleFor >= limits.idleMs ? 'expired' : 'live';
}

/**
 * The workspace a signed-in session names, if it is still within its time limits: what the
 * tenant middleware may claim as the page transaction's scope before the workspace is known.
 */
export function claimedWorkspaceId(req: Request): string | undefined {
  return sessionAge(req) === 'live' ? req.session.workspaceId : undefined;
}

/**
 * Whether this request's session is a live one for this workspace: signed in (or holding a
 * visitor's tickets) here, and neither idle too long nor past its maximum age, judged by the
 * injected clock. An expired session is replaced by a fresh, empty one. Use is recorded at most
 * once a minute, so idle expiry holds to the minute while most requests write nothing.
 */
export async function liveSession(req: Request, workspaceId: string): Promise<boolean> {
  if (req.session.workspaceId !== workspaceId) return false;
  const age = sessionAge(req);
  if (age === 'expired') await regenerateSession(req);
  if (age !== 'live') return false;
  const now = depsOf(req).clock.now().getTime();
  const { signedInAt, lastSeenAt } = req.session;
  if (now - (lastSeenAt ?? signedInAt ?? 0) >= depsOf(req).config.sessions.activityWriteMs) {
    req.session.lastSeenAt = now;
  }
  return true;
}

/** A fresh, empty session with a new id (the old row is deleted): at every sign-in and expiry. */
export function regenerateSession(req: Request): Promise<void> {
  return new Promise((resolve, reject) =>
    req.session.regenerate((e) => (e ? reject(e as Error) : resolve())),
  );
}

export function saveSession(req: Request): Promise<void> {
  return new Promise((resolve, reject) =>
    req.session.save((e) => (e ? reject(e as Error) : resolve())),
  );
}

export function destroySession(req: Request): Promise<void> {
  return new Promise((resolve, reject) =>
    req.session.destroy((e) => (e ? reject(e as Error) : resolve())),
  );
}

/**
 * Signs a requester in: a brand-new session (new id, nothing carried over from before, such as
 * a visitor's tickets) for the workspace, saved before the redirect that follows.
 */
export async function startRequesterSession(
  req: Request,
  input: {
    workspaceId: string;
    requester: { id: string; email: string; timeZone: string | null };
    now: Date;
  },
): Promise<void> {
  await regenerateSession(req);
  req.session.workspaceId = input.workspaceId;
  req.session.requesterId = input.requester.id;
  req.session.requesterEmail = input.requester.email;
  if (input.requester.timeZone) req.session.requesterTimeZone = input.requester.timeZone;
  req.session.signedInAt = input.now.getTime();
  req.session.lastSeenAt = input.now.getTime();
  await saveSession(req);
}
