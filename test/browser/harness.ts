import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { crc32, deflateSync } from 'node:zlib';
import { createDb, createPool } from '../../src/db/knex';
import pino from 'pino';
import { chromium, type Browser, type BrowserContext, type Request } from 'playwright-core';
import { SMTPServer } from 'smtp-server';
import { createApp } from '../../src/app';
import type { AuditLog } from './audit';
import { loadConfig, workspaceOrigin, type Config } from '../../src/config';
import { systemClock } from '../../src/deps';
import { startOutboxWorker, type Worker } from '../../src/services/mail';
import { smtpTransport } from '../../src/services/mail-transport';
import { createRateLimits } from '../../src/services/rate-limits';
import { createTemplates } from '../../src/services/templates';
import { testDatabase } from '../helpers/database';

export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
export const OUTPUT = path.resolve(__dirname, '../../test-output');

export function chromiumAvailable(): boolean {
  return existsSync(CHROMIUM);
}

/** A mail as the test SMTP server received it, with quoted-printable undone. */
export interface CaughtMail {
  to: string[];
  raw: string;
}

function decodeQuotedPrintable(raw: string): string {
  return raw
    .replace(/=\r?\n/g, '')
    .replace(/=([0-9A-F]{2})/g, (_m, hex: string) => String.fromCharCode(parseInt(hex, 16)));
}

export interface RunningServer {
  config: Config;
  origin(slug: string): string;
  mail: CaughtMail[];
  /** Waits for a mail to an address (the outbox worker sends it within a poll). */
  waitForMail(to: string, after?: number): Promise<CaughtMail>;
  stop(): Promise<void>;
}

/**
 * The real app on a free port, its mail worker sending over SMTP to a server started here.
 * The database is the test database of the root hooks, unless another URL is given (one where
 * nothing answers shows the outage page).
 */
export async function startServer(options: { databaseUrl?: string } = {}): Promise<RunningServer> {
  const mail: CaughtMail[] = [];
  const smtp = new SMTPServer({
    authOptional: true,
    disabledCommands: ['STARTTLS'],
    logger: false,
    onData(stream, session, callback) {
      const chunks: Buffer[] = [];
      stream.on('data', (c: Buffer) => chunks.push(c));
      stream.on('end', () => {
        mail.push({
          to: session.envelope.rcptTo.map((r) => r.address),
          raw: decodeQuotedPrintable(Buffer.concat(chunks).toString('utf8')),
        });
        callback();
      });
    },
  });
  await new Promise<void>((resolve) => smtp.listen(0, '127.0.0.1', resolve));
  const smtpPort = (smtp.server.address() as AddressInfo).port;

  const shared = testDatabase();
  const url = options.databaseUrl ?? shared.url;
  const db = options.databaseUrl ? createDb(url, 2) : shared.db;
  const sessionPool = createPool(url, 4);
  sessionPool.on('error', () => undefined);
  const logger = pino({ level: 'silent' });
  // The port is known only after listening, and BASE_URL must carry it: bind first, then build.
  const { createServer } = await import('node:http');
  const http = createServer();
  await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
  const port = (http.address() as AddressInfo).port;
  const config = loadConfig({
    NODE_ENV: 'test',
    DATA_DIR: path.join(OUTPUT, 'data'),
    SESSION_SECRET: 'browser-test-secret-browser-test-secret',
    BASE_URL: `http://localhost:${port}`,
    SMTP_URL: `smtp://127.0.0.1:${smtpPort}`,
    LOG_LEVEL: 'silent',
  });
  const mailTransport = smtpTransport(
    config.smtpUrl!,
    config.mailFrom,
    config.mailWorker.connections,
  );
  const deps = {
    config,
    db,
    clock: systemClock,
    logger,
    templates: createTemplates(),
    mailTransport,
    rateLimits: createRateLimits(sessionPool, config.rateLimits),
    sessionPool,
  };
  http.on('request', createApp(deps));
  const worker: Worker = startOutboxWorker(
    { ...deps, ...config.mailWorker, secrets: config.secrets, maxBackoffMs: 1000 },
    100,
  );

  return {
    config,
    origin: (slug) => workspaceOrigin(config, slug),
    mail,
    async waitForMail(to, after = 0) {
      for (let i = 0; i < 100; i += 1) {
        const found = mail.slice(after).find((m) => m.to.includes(to));
        if (found) return found;
        await new Promise((r) => setTimeout(r, 100));
      }
      throw new Error(`no mail to ${to} within 10 s`);
    },
    async stop() {
      await worker.stop();
      // A browser keeps connections open: close them, or close() would wait for them forever.
      const closed = new Promise<void>((resolve) => http.close(() => resolve()));
      http.closeAllConnections();
      await closed;
      await sessionPool.end();
      if (db !== shared.db) await db.destroy();
      // As the server's own stop does: its SMTP connections would hold smtp.close() for 30 s.
      mailTransport.close?.();
      await new Promise<void>((resolve) => smtp.close(() => resolve()));
    },
  };
}

/** Debian's Chromium, headless, with nothing that talks to the network on its own. */
export function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--no-first-run',
      '--disable-dev-shm-usage',
    ],
  });
}

export function newContext(browser: Browser, javaScriptEnabled: boolean): Promise<BrowserContext> {
  return browser.newContext({
    javaScriptEnabled,
    viewport: { width: 1280, height: 900 },
    locale: 'en-GB',
  });
}

/** One response as the weight and compression checks need it (body length is after decoding). */
export interface Transfer {
  url: string;
  type: string;
  status: number;
  encoding: string | undefined;
  bytes: number;
}

/**
 * Every request a context makes, grouped by top-level document: `page()` answers the latest
 * document of the main frame and everything it loaded. Routing every request through Playwright
 * turns the HTTP cache off, so each page shows its full first-visit weight.
 */
export class Traffic {
  /** Every request of the context, for "no script, no font, ever" checks. */
  readonly all: Request[] = [];
  private documentRequests: Request[] = [];

  private constructor() {}

  static async record(context: BrowserContext): Promise<Traffic> {
    const traffic = new Traffic();
    // A request still in flight when its page closes cannot be continued; that is no failure.
    await context.route('**/*', (route) => route.continue().catch(() => undefined));
    context.on('request', (request) => {
      traffic.all.push(request);
      const mainFrame = request.isNavigationRequest() && request.frame().parentFrame() === null;
      if (mainFrame) traffic.documentRequests = [request];
      else traffic.documentRequests.push(request);
    });
    return traffic;
  }

  /** Every script or web-font request the context ever made (a script-free portal makes none). */
  scriptsAndFonts(): string[] {
    return this.all
      .filter((r) => ['script', 'font'].includes(r.resourceType()))
      .map((r) => `${r.resourceType()} ${r.url()}`);
  }

  /** The current document's response (with its raw text) and its subresources' transfers. */
  async page(): Promise<{ html: string; document: Transfer; resources: Transfer[] }> {
    const [first, ...rest] = this.documentRequests;
    if (!first) throw new Error('no document loaded yet');
    const document = await transferOf(first);
    const response = await first.response();
    const html = response ? (await response.body()).toString('utf8') : '';
    return { html, document, resources: await Promise.all(rest.map(transferOf)) };
  }
}

async function transferOf(request: Request): Promise<Transfer> {
  const response = await request.response();
  if (!response) throw new Error(`no response for ${request.url()}`);
  const status = response.status();
  const headers = await response.allHeaders();
  const bytes = status >= 300 && status < 400 ? 0 : (await response.body()).length;
  return {
    url: request.url(),
    type: request.resourceType(),
    status,
    encoding: headers['content-encoding'],
    bytes,
  };
}

export function signInLinkIn(mail: CaughtMail): string {
  const match = /https?:\/\/[^\s"<>]+\/tickets\/login\/[A-Za-z0-9_-]{43}/.exec(mail.raw);
  if (!match) throw new Error('no sign-in link in the mail');
  return match[0];
}

/** The code a sign-in mail carries: on a line of its own in the text part. */
export function signInCodeIn(mail: CaughtMail): string {
  const match = /^([A-Z0-9]{4}-[A-Z0-9]{4})\r?$/m.exec(mail.raw);
  if (!match) throw new Error('no sign-in code in the mail');
  return match[1]!;
}

export function writeOutput(relative: string, content: string | Buffer): string {
  const file = path.join(OUTPUT, relative);
  mkdirSync(path.dirname(file), { recursive: true });
  writeFileSync(file, content);
  return file;
}

/** A real PNG (RGB: a shaded disc on white, a few KB like a small logo), for logo uploads. */
export function aPng(width: number, height: number): Buffer {
  const chunk = (type: string, body: Buffer): Buffer => {
    const head = Buffer.alloc(8);
    head.writeUInt32BE(body.length);
    head.write(type, 4, 'latin1');
    const crc = Buffer.alloc(4);
    crc.writeUInt32BE(crc32(Buffer.concat([head.subarray(4), body])));
    return Buffer.concat([head, body, crc]);
  };
  const header = Buffer.alloc(13);
  header.writeUInt32BE(width, 0);
  header.writeUInt32BE(height, 4);
  header.set([8, 2, 0, 0, 0], 8);
  const rows: number[] = [];
  for (let y = 0; y < height; y += 1) {
    rows.push(0);
    for (let x = 0; x < width; x += 1) {
      const inside = (x - width / 2) ** 2 + (y - height / 2) ** 2 < (width / 2.5) ** 2;
      rows.push(inside ? 29 : 255, inside ? (x * 3) & 255 : 255, inside ? (y * 3) & 255 : 255);
    }
  }
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk('IHDR', header),
    chunk('IDAT', deflateSync(Buffer.from(rows))),
    chunk('IEND', Buffer.alloc(0)),
  ]);
}

/**
 * The hooks a Chromium journey file needs, registered in the caller's describe: one browser for
 * the file, a fresh server for each test, and browser profiles closed after each test, pass or
 * fail. `profile` opens one whose traffic is recorded.
 */
export function chromiumSuite(log: AuditLog) {
  let browser: Browser;
  let server: RunningServer;
  let contexts: BrowserContext[] = [];
  before(async () => {
    browser = await launchChromium();
  });
  after(async () => {
    await browser?.close();
    log.finish();
  });
  beforeEach(async () => {
    server = await startServer();
  });
  afterEach(async () => {
    await Promise.all(contexts.map((c) => c.close()));
    contexts = [];
    await server.stop();
  });
  return {
    get server(): RunningServer {
      return server;
    },
    async profile(javaScript: boolean) {
      const context = await newContext(browser, javaScript);
      contexts.push(context);
      return { traffic: await Traffic.record(context), page: await context.newPage(), context };
    },
  };
}
