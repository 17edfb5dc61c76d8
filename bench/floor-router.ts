/**
 * The bench's second reference: the bare baseline's page behind the per-request packages the
 * design card requires of every signed-in page, each used the way its README shows and nothing
 * more: helmet, cookie-parser, express-session over connect-pg-simple (no touch on reads, as the
 * app's at-most-once-a-minute activity write), and csurf with its secret in a signed cookie,
 * whose token the page renders into a sign-out form. No workspace lookup, no row-level security,
 * no transaction, no languages: what the report's "× base" of this row leaves to the app is the
 * share of the baseline those packages alone allow on this machine.
 *
 * Mounted by bare-server.ts at /floor: GET /floor/sign-in starts the session, GET /floor lists,
 * POST /floor/sign-out ends it.
 */
import express, { Router, type Response } from 'express';
import session from 'express-session';
import connectPgSimple from 'connect-pg-simple';
import cookieParser from 'cookie-parser';
import csurf from 'csurf';
import helmet from 'helmet';
import type pg from 'pg';

/** Where the reference keeps its sessions: a schema of its own, apart from the app's tables. */
const SCHEMA = 'bench_floor';
/**
 * Fixed, so a session made on the bench's bare server is read by its counting twin too. It signs
 * nothing but these bench sessions, on loopback.
 */
const SECRET = 'bench-floor-reference-secret-not-for-anything-else';

export interface FloorSession {
  requesterId?: string;
}

export async function floorRouter(
  pool: pg.Pool,
  requesterId: string,
  listPage: (res: Response, requesterId: string, csrfToken: string) => Promise<void>,
): Promise<Router> {
  await pool.query(`create schema if not exists ${SCHEMA}`);
  const Store = connectPgSimple(session);
  const router = Router();
  router.use(helmet());
  router.use(cookieParser(SECRET));
  router.use(
    session({
      store: new Store({
        pool,
        schemaName: SCHEMA,
        tableName: 'session',
        createTableIfMissing: true,
        disableTouch: true,
      }),
      secret: SECRET,
      name: 'floor_sid',
      resave: false,
      saveUninitialized: false,
      cookie: { path: '/floor', httpOnly: true, sameSite: 'lax', maxAge: 7 * 24 * 3600 * 1000 },
    }),
  );
  router.use(express.urlencoded({ extended: false }));
  router.use(
    csurf({
      cookie: { key: 'floor_csrf', path: '/floor', signed: true, httpOnly: true, sameSite: 'lax' },
    }),
  );
  router.get('/sign-in', (req, res) => {
    (req.session as FloorSession).requesterId = requesterId;
    res.redirect(303, '/floor');
  });
  router.post('/sign-out', (req, res, next) => {
    req.session.destroy((error: unknown) => {
      if (error) next(error);
      else res.redirect(303, '/floor/sign-in');
    });
  });
  router.get('/', async (req, res) => {
    const who = (req.session as FloorSession).requesterId;
    if (!who) {
      res.redirect(303, '/floor/sign-in');
      return;
    }
    await listPage(res, who, req.csrfToken());
  });
  return router;
}
