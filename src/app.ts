import compression from 'compression';
import express, { type Express } from 'express';
import path from 'node:path';
import type pg from 'pg';
import { healthOf, probe } from './db/availability';
import type { Deps } from './deps';
import { cookies } from './middleware/cookies';
import { errorHandler, notFound } from './middleware/errors';
import { requestLog } from './middleware/request-log';
import { minifiedStylesheet } from './middleware/stylesheets';
import { securityHeaders } from './middleware/security-headers';
import { projectRoot } from './project-root';
import { paths } from './routes/paths';
import { adminRouter } from './routes/admin';
import { portalRouter } from './routes/portal';

export interface AppDeps extends Deps {
  /** The session stores' connection pool (connect-pg-simple speaks node-postgres, not knex). */
  sessionPool: pg.Pool;
}

/** The middleware order and the routers, nothing else. */
export function createApp(deps: AppDeps): Express {
  const app = express();
  app.locals.deps = deps;
  // node-postgres rethrows an idle connection's error (e.g. the database restarting) unless the
  // pool has a listener, and connect-pg-simple adds none to a pool it is given.
  // A lost idle connection is replaced on next use; during a known outage it is no news.
  const health = healthOf(deps.db, deps.logger);
  deps.sessionPool.on('error', (err) => {
    if (!health.isDown) deps.logger.warn({ err }, 'session store connection lost');
  });
  app.set('trust proxy', deps.config.trustProxy);
  app.set('x-powered-by', false);
  // No ETag computed over every page (a SHA-1 of the whole body): pages with a form carry a fresh
  // CSRF token, so no two match and If-None-Match never could; the assets set their own.
  app.set('etag', false);
  app.set('views', path.join(projectRoot, 'views'));
  app.set('view engine', 'njk');
  deps.templates.express(app);

  app.use(requestLog(deps.logger));
  app.use(securityHeaders(deps.config.env === 'production'));
  app.use(compression());
  const publicDirectory = path.join(projectRoot, 'public');
  app.use(paths.assets, minifiedStylesheet(publicDirectory, 'css/app.css', 86400));
  app.use(paths.assets, express.static(publicDirectory, { maxAge: '1d', index: false }));
  // Signed cookies (CSRF secrets, one-time notices) are signed with the current session secret
  // and checked against every configured one, so a rotation breaks no form in flight.
  app.use(cookies(deps.config.secrets));
  // Liveness: the process answers. Readiness: it can also reach its database, so a load
  // balancer sends nobody here while it cannot.
  app.get('/healthz', (_req, res) => {
    res.type('text').send('ok');
  });
  app.get('/readyz', async (_req, res) => {
    const ready = await probe(deps.db);
    if (ready) health.up();
    else health.down(new Error('readiness probe: database unreachable'));
    res.set('Cache-Control', 'no-store');
    res
      .status(ready ? 200 : 503)
      .type('text')
      .send(ready ? 'ready' : 'database unreachable');
  });
  app.use(portalRouter(deps.config, deps.sessionPool));
  app.use(adminRouter(deps.config, deps.sessionPool));
  app.use(notFound);
  app.use(errorHandler);
  return app;
}
