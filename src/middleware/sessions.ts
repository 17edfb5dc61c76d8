import connectPgSimple from 'connect-pg-simple';
import session from 'express-session';
import type { Request, RequestHandler } from 'express';
import type pg from 'pg';
import type { Config } from '../config';
import { depsOf } from '../deps';

declare module 'express-session' {
  interface SessionData {
    workspaceId: string;
    requesterId: string;
    /** Agent app only: the signed-in user. */
    userId: string;
    /** Tickets an anonymous visitor opened in this session: all it may ever see. */
    visitorTicketIds: string[];
    signedInAt: number;
    lastSeenAt: number;
    flash: string;
  }
}

const PgStore = connectPgSimple(session);

/** The portal's own cookie and table; the agent app has its own pair. */
export const portalSession: SessionOptions = {
  name: 'portal_sid',
  path: '/tickets',
  table: 'portal_sessions',
};

export const adminSession: SessionOptions = {
  name: 'admin_sid',
  path: '/admin',
  table: 'admin_sessions',
};

export interface SessionOptions {
  /** Cookie name, e.g. portal_sid. */
  name: string;
  /** Cookie path: each app's cookie is sent to that app alone. */
  path: string;
  /** Store table: each app has its own. */
  table: string;
}

/** One app's session: its own cookie, path and table, never shared with the other app. */
export function sessions(config: Config, pool: pg.Pool, options: SessionOptions): RequestHandler {
  return session({
    name: options.name,
    secret: config.sessionSecret,
    store: new PgStore({ pool, tableName: options.table, createTableIfMissing: false }),
    resave: false,
    saveUninitialized: false,
    rolling: true,
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
}

/**
 * Whether this request's session is a live one for this workspace: signed in (or holding a
 * visitor's tickets) here, and neither idle too long nor past its maximum age, judged by the
 * injected clock. An expired session is replaced by a fresh, empty one; a live one is touched.
 */
export async function liveSession(req: Request, workspaceId: string): Promise<boolean> {
  const { signedInAt, lastSeenAt } = req.session;
  if (req.session.workspaceId !== workspaceId || signedInAt === undefined) return false;
  const limits = depsOf(req).config.sessions;
  const now = depsOf(req).clock.now().getTime();
  const idleFor = now - (lastSeenAt ?? signedInAt);
  if (now - signedInAt >= limits.absoluteMs || idleFor >= limits.idleMs) {
    await regenerateSession(req);
    return false;
  }
  req.session.lastSeenAt = now;
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

/** A one-time message for the next page (POST-redirect-GET keeps no other state). */
export function takeFlash(req: Request): string | undefined {
  const flash = req.session.flash;
  delete req.session.flash;
  return flash;
}
