/**
 * npm run bench: the CSV export of 100,000 tickets through the real app, against a throw-away
 * embedded PostgreSQL. Prints rows, bytes, time and how far the process's memory grew while
 * streaming, which must stay flat (a few MB), not grow with the number of tickets.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import pino from 'pino';
import { createApp } from '../src/app';
import { loadConfig } from '../src/config';
import { openEmbedded } from '../src/db/embedded';
import { createDb, type Db } from '../src/db/knex';
import { migrateLatest } from '../src/db/migrate';
import { withScope } from '../src/db/scopes';
import { systemClock } from '../src/deps';
import * as users from '../src/models/users';
import type { MailTransport } from '../src/services/mail-transport';
import { hashPassword } from '../src/services/passwords';
import { createRateLimits } from '../src/services/rate-limits';
import { createTemplates } from '../src/services/templates';
import { createWorkspace } from '../src/services/workspaces';

const TICKETS = 100_000;
const REQUESTERS = 1_000;
const HOST = 'acme.localhost';
const EMAIL = 'bench@acme.test';
const PASSWORD = 'bench password, not secret';

const say = (line: string) => process.stdout.write(`${line}\n`);
const mb = (bytes: number) => `${(bytes / 1024 / 1024).toFixed(1)} MB`;

/** One workspace, its requesters and all its tickets, each in one INSERT … SELECT generate_series. */
async function seed(db: Db): Promise<void> {
  const passwordHash = await hashPassword(PASSWORD);
  await withScope(db, { kind: 'system' }, async (trx) => {
    const workspace = await createWorkspace(trx, {
      slug: 'acme',
      name: 'Acme Inc',
      portalEnabled: true,
    });
    await users.insert(trx, {
      workspaceId: workspace.id,
      email: EMAIL,
      name: 'Bench Agent',
      role: 'agent',
      passwordHash,
    });
    await trx.raw(
      `insert into requesters (workspace_id, email, name)
       select ?, 'customer' || g || '@example.com', 'Customer ' || g from generate_series(1, ?) g`,
      [workspace.id, REQUESTERS],
    );
    // Every fourth ticket resolved and every fifth of those rated, with commas, quotes and a
    // formula-looking comment, so quoting and neutralising are part of what is measured.
    await trx.raw(
      `insert into tickets (workspace_id, number, requester_id, subject, status, created_at, updated_at,
                            last_activity_at, last_reply_at, rating, rating_comment, rated_at)
       select ?, 1000 + g, r.id, 'Order ' || g || ': "parcel" arrived late, box damaged',
              (array['open', 'pending', 'resolved', 'closed'])[1 + g % 4], ts, ts, ts, ts,
              case when g % 4 = 2 and g % 5 = 0 then 1 + g % 5 end,
              case when g % 4 = 2 and g % 5 = 0 then '=SUM(A1), "thanks", all good' end,
              case when g % 4 = 2 and g % 5 = 0 then ts + interval '1 hour' end
         from generate_series(1, ?) g
         join (select id, row_number() over (order by id) as n from requesters where workspace_id = ?) r
           on r.n = 1 + g % ?
         cross join lateral (select timestamptz '2026-01-01T00:00:00Z' + g * interval '1 second' as ts) t`,
      [workspace.id, TICKETS, workspace.id, REQUESTERS],
    );
  });
}

interface Reply {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: string;
}

function request(port: number, options: http.RequestOptions, body?: string): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port, ...options }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () =>
        resolve({
          status: res.statusCode ?? 0,
          headers: res.headers,
          body: Buffer.concat(chunks).toString(),
        }),
      );
    });
    req.on('error', reject);
    req.end(body);
  });
}

function sessionCookie(reply: Reply): string {
  const cookie = (reply.headers['set-cookie'] ?? []).find((c) => c.startsWith('admin_sid='));
  if (!cookie) throw new Error(`no admin session cookie (status ${reply.status})`);
  return cookie.split(';')[0]!;
}

/** The agent app's sign-in, as a browser does it: the form (CSRF token, session), then the POST. */
async function signIn(port: number): Promise<string> {
  const form = await request(port, { path: '/admin/login', headers: { Host: HOST } });
  const token = /name="_csrf" value="([^"]+)"/.exec(form.body)?.[1];
  if (!token) throw new Error('no CSRF token on the sign-in page');
  const body = new URLSearchParams({ _csrf: token, email: EMAIL, password: PASSWORD }).toString();
  const reply = await request(
    port,
    {
      method: 'POST',
      path: '/admin/login',
      headers: {
        Host: HOST,
        Cookie: sessionCookie(form),
        'Content-Type': 'application/x-www-form-urlencoded',
      },
    },
    body,
  );
  if (reply.status !== 303) throw new Error(`sign-in failed with ${reply.status}`);
  return sessionCookie(reply);
}

interface Result {
  status: number;
  rows: number;
  bytes: number;
  ms: number;
  peakRss: number;
  peakHeap: number;
}

/** Streams the export, counting records (CRLF outside quotes) without keeping the body. */
function streamExport(port: number, cookie: string): Promise<Result> {
  return new Promise((resolve, reject) => {
    let peakRss = 0;
    let peakHeap = 0;
    const sample = () => {
      const { rss, heapUsed } = process.memoryUsage();
      peakRss = Math.max(peakRss, rss);
      peakHeap = Math.max(peakHeap, heapUsed);
    };
    const sampler = setInterval(sample, 10);
    const started = process.hrtime.bigint();
    const req = http.get(
      {
        host: '127.0.0.1',
        port,
        path: '/admin/tickets/export.csv',
        headers: { Host: HOST, Cookie: cookie, 'Accept-Encoding': 'identity' },
      },
      (res) => {
        let records = 0;
        let bytes = 0;
        let quoted = false;
        let previous = 0;
        res.on('data', (chunk: Buffer) => {
          bytes += chunk.length;
          for (const byte of chunk) {
            if (byte === 0x22) quoted = !quoted;
            else if (byte === 0x0a && previous === 0x0d && !quoted) records++;
            previous = byte;
          }
        });
        res.on('end', () => {
          clearInterval(sampler);
          sample();
          const ms = Number(process.hrtime.bigint() - started) / 1e6;
          resolve({ status: res.statusCode ?? 0, rows: records - 1, bytes, ms, peakRss, peakHeap });
        });
        res.on('error', reject);
      },
    );
    req.on('error', (error) => {
      clearInterval(sampler);
      reject(error);
    });
  });
}

async function main(): Promise<void> {
  const dataDir = mkdtempSync(path.join(os.tmpdir(), 'tickets-bench-'));
  const embedded = await openEmbedded({ dataDir, persistent: false });
  const db = createDb(embedded.url);
  const sessionPool = new pg.Pool({ connectionString: embedded.url, max: 3 });
  let server: http.Server | undefined;
  try {
    await migrateLatest(db);
    let started = Date.now();
    await seed(db);
    say(
      `seeded ${TICKETS.toLocaleString('en-GB')} tickets (${REQUESTERS} requesters) in ${Date.now() - started} ms`,
    );

    const config = loadConfig({
      NODE_ENV: 'test',
      DATA_DIR: dataDir,
      SESSION_SECRET: 'bench-secret-bench-secret-bench-secret-0123',
      BASE_URL: 'http://localhost:3000',
      LOG_LEVEL: 'silent',
    });
    const noMail: MailTransport = { send: () => Promise.resolve() };
    const app = createApp({
      config,
      db,
      clock: systemClock,
      logger: pino({ level: 'silent' }),
      templates: createTemplates(),
      mailTransport: noMail,
      rateLimits: createRateLimits(db, config.rateLimits),
      sessionPool,
    });
    const listening = app.listen(0, '127.0.0.1');
    server = listening;
    await new Promise<void>((resolve) => listening.once('listening', () => resolve()));
    const port = (listening.address() as AddressInfo).port;
    const cookie = await signIn(port);

    // A small warm-up export, so first-use costs (templates, JIT, pool) are not counted as growth.
    await streamExport(port, cookie);
    globalThis.gc?.();
    const before = process.memoryUsage();
    started = Date.now();
    const result = await streamExport(port, cookie);
    if (result.status !== 200) throw new Error(`export answered ${result.status}`);
    say(
      `exported ${result.rows.toLocaleString('en-GB')} rows, ${mb(result.bytes)} of CSV, in ${result.ms.toFixed(0)} ms ` +
        `(${Math.round(result.rows / (result.ms / 1000)).toLocaleString('en-GB')} rows/s)`,
    );
    say(
      `RSS:  before ${mb(before.rss)}, peak ${mb(result.peakRss)}, growth ${mb(result.peakRss - before.rss)}`,
    );
    say(
      `heap: before ${mb(before.heapUsed)}, peak ${mb(result.peakHeap)}, growth ${mb(result.peakHeap - before.heapUsed)}`,
    );
    if (result.rows !== TICKETS) throw new Error(`expected ${TICKETS} rows, got ${result.rows}`);
  } finally {
    if (server) {
      server.closeAllConnections();
      await new Promise((resolve) => server?.close(resolve));
    }
    await sessionPool.end();
    await db.destroy();
    await embedded.stop();
    rmSync(dataDir, { recursive: true, force: true });
  }
}

main().catch((error: unknown) => {
  process.stderr.write(
    `bench failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
  );
  process.exit(1);
});
