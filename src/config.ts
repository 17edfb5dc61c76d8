import { randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync, existsSync } from 'node:fs';
import path from 'node:path';
import { z } from 'zod';

/** Every tunable the app has. The only module that reads process.env. */
export interface Config {
  env: 'development' | 'production' | 'test';
  port: number;
  /** Unset: the embedded PostgreSQL under dataDir. */
  databaseUrl: string | undefined;
  dataDir: string;
  /** Scheme, parent domain and port of workspace hosts: workspace `acme` lives at acme.<host>. */
  baseUrl: URL;
  smtpUrl: string | undefined;
  mailFrom: string;
  /** Signs cookies and seals queued mail. */
  sessionSecret: string;
  /**
   * Every secret still accepted: the current one first (the only one that signs or seals), then
   * older ones from SESSION_SECRETS, so a rotated secret strands neither sessions nor queued mail.
   */
  secrets: string[];
  /** Passed to Express's `trust proxy` setting. */
  trustProxy: boolean | number | string;
  secureCookies: boolean;
  logLevel: string;
  limits: FieldLimits;
  rateLimits: RateLimits;
  /** Idle and absolute session lifetimes; use is written to the session at most every activityWriteMs. */
  sessions: { idleMs: number; absoluteMs: number; activityWriteMs: number };
  magicLinkTtlMs: number;
  /**
   * The code in a sign-in mail: how long it works (shorter than the link: it is short enough to
   * guess, so it gets little time and few tries), and how many tries it gets.
   */
  signInCode: { ttlMs: number; maxAttempts: number };
  pageSize: number;
  /** Messages a ticket page shows at once, newest; a link leads to earlier ones. */
  threadPageSize: number;
  /** How long after a ticket was resolved its customer may reopen it from the portal. */
  reopenWindowMs: number;
  /**
   * The outbox worker: how often it looks for due mail when the queue is empty; a failing
   * message is retried with back-off until retryForMs after it was queued; and how many messages it sends at once (over as many SMTP connections, kept open
   * while mail keeps coming).
   */
  mailWorker: { pollMs: number; maxBackoffMs: number; retryForMs: number; connections: number };
  /** The cluster's housekeeper: how often it runs, and how long finished mail records are kept. */
  housekeeping: {
    intervalMs: number;
    sentMailRetentionMs: number;
    failedMailRetentionMs: number;
    /** A ticket held for its address to be confirmed is deleted after this (the pages say 7 days). */
    heldTicketRetentionMs: number;
    /** How long a message taken by mail is remembered (inbound_receipts): past any MTA's retries. */
    inboundReceiptRetentionMs: number;
  };
  /** The security audit trail: how long events are kept, and how many a page shows. */
  audit: { retentionMs: number; pageSize: number };
  attachments: AttachmentLimits;
  inbound: InboundMail;
}

/** Files on a message: how many, and how large each and all together may be. */
export interface AttachmentLimits {
  maxFiles: number;
  maxFileBytes: number;
  maxMessageBytes: number;
  /**
   * How much of a reply's files its mail carries as attachments when the customer has no portal
   * to download them from; the rest are named in it. Many mail servers refuse messages over 10
   * to 25 MB, and attachments grow by a third in transit.
   */
  maxMailBytes: number;
}

/**
 * Mail coming in: replies to `reply+<token>@domain`, new tickets to `<slug>@domain`. Without a
 * domain nothing is received and outgoing mail carries no Reply-To.
 */
export interface InboundMail {
  domain: string | undefined;
  /** The built-in SMTP listener's port; undefined: no listener (an MTA may pipe to the CLI). */
  smtpPort: number | undefined;
  smtpHost: string;
  /** Largest message accepted, in bytes: refused with 552 before its body is stored. */
  maxMessageBytes: number;
}

/** Input limits in one place: validation, `maxlength` attributes and tests all read these. */
export interface FieldLimits {
  email: number;
  name: number;
  subject: number;
  body: number;
  comment: number;
  /** Largest request body accepted, in bytes, before answering 413. */
  requestBytes: number;
}

export interface RateLimits {
  /** Per address: one mail a minute; a second request inside the minute is silently dropped. */
  signinPerAddressPerMinute: number;
  signinPerAddressPerHour: number;
  signinPerIpPerHour: number;
  newTicketPerIpPerHour: number;
  /** Tickets opened by mail: per sender address, and per workspace, in an hour. */
  newTicketByMailPerSenderPerHour: number;
  newTicketByMailPerWorkspacePerHour: number;
  /** Answers to refused inbound mail, per address, in an hour: more could feed a mail loop. */
  inboundAnswersPerAddressPerHour: number;
  /** Failed agent sign-ins allowed per account, and per client IP, in 15 minutes. */
  agentLoginFailuresPerAccount: number;
  agentLoginFailuresPerIp: number;
}

export const defaultLimits: FieldLimits = {
  email: 254,
  name: 100,
  subject: 200,
  body: 10_000,
  comment: 2_000,
  requestBytes: 64 * 1024,
};

/**
 * How long a request waits for the database before it is answered 503: one connection attempt
 * (an unreachable host otherwise hangs for the operating system's TCP timeout), and a free
 * connection from a busy pool.
 */
export const databaseTimeouts = { connectMs: 1500, acquireMs: 10_000 };

const HOUR = 60 * 60 * 1000;
const MB = 1024 * 1024;
const DAY = 24 * HOUR;

const positiveInt = z.coerce.number().int().positive();

const envSchema = z.object({
  NODE_ENV: z.enum(['development', 'production', 'test']).default('development'),
  PORT: z.coerce.number().int().min(1).max(65535).default(3000),
  DATABASE_URL: z
    .string()
    .regex(/^postgres(ql)?:\/\//, 'must start with postgres:// or postgresql://')
    .optional(),
  DATA_DIR: z.string().min(1).default('.data'),
  BASE_URL: z
    .url({ protocol: /^https?$/ })
    .refine((u) => new URL(u).pathname === '/', 'must have no path, like https://example.com')
    .optional(),
  SMTP_URL: z.url({ protocol: /^smtps?$/ }).optional(),
  MAIL_FROM: z.string().min(3).default('Tickets Portal <no-reply@localhost>'),
  SESSION_SECRET: z.string().min(32, 'must be at least 32 characters').optional(),
  SESSION_SECRETS: z
    .string()
    .optional()
    .transform((list) =>
      (list ?? '')
        .split(',')
        .map((secret) => secret.trim())
        .filter(Boolean),
    )
    .pipe(z.array(z.string().min(32, 'each secret must be at least 32 characters'))),
  TRUST_PROXY: z.string().optional(),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  SIGNIN_PER_ADDRESS_PER_HOUR: positiveInt.default(5),
  SIGNIN_PER_IP_PER_HOUR: positiveInt.default(20),
  NEW_TICKET_PER_IP_PER_HOUR: positiveInt.default(10),
  AGENT_LOGIN_FAILURES_PER_ACCOUNT: positiveInt.default(5),
  AGENT_LOGIN_FAILURES_PER_IP: positiveInt.default(20),
  SESSION_IDLE_DAYS: positiveInt.default(7),
  SESSION_MAX_DAYS: positiveInt.default(30),
  HOUSEKEEPING_INTERVAL_MINUTES: positiveInt.default(10),
  MAIL_RETRY_HOURS: positiveInt.default(24),
  MAIL_SMTP_CONNECTIONS: positiveInt.max(20).default(4),
  AUDIT_RETENTION_DAYS: positiveInt.default(365),
  REOPEN_WINDOW_DAYS: positiveInt.default(14),
  ATTACHMENT_MAX_FILES: positiveInt.default(5),
  ATTACHMENT_MAX_FILE_MB: positiveInt.default(10),
  ATTACHMENT_MAX_MESSAGE_MB: positiveInt.default(25),
  MAIL_ATTACHMENTS_MAX_MB: positiveInt.default(10),
  INBOUND_DOMAIN: z
    .string()
    .regex(
      /^[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)+$/i,
      'must be a domain name, like mail.example.com',
    )
    .optional(),
  INBOUND_SMTP_PORT: z.coerce.number().int().min(1).max(65535).optional(),
  INBOUND_SMTP_HOST: z.string().min(1).default('0.0.0.0'),
  INBOUND_MAX_MESSAGE_MB: positiveInt.default(30),
  NEW_TICKET_BY_MAIL_PER_SENDER_PER_HOUR: positiveInt.default(10),
  NEW_TICKET_BY_MAIL_PER_WORKSPACE_PER_HOUR: positiveInt.default(200),
});

export class ConfigError extends Error {}

function parseTrustProxy(value: string | undefined): boolean | number | string {
  if (value === undefined || value === '' || value === 'false') return false;
  if (value === 'true') return true;
  if (/^\d+$/.test(value)) return Number(value);
  return value;
}

/** In development a secret is made once and kept, so sessions survive restarts. */
function developmentSecret(dataDir: string): string {
  const file = path.join(dataDir, 'session-secret');
  if (existsSync(file)) return readFileSync(file, 'utf8').trim();
  mkdirSync(dataDir, { recursive: true });
  const secret = randomBytes(32).toString('base64url');
  writeFileSync(file, secret, { mode: 0o600 });
  return secret;
}

export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const parsed = envSchema.safeParse(env);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((i) => `  ${i.path.join('.')}: ${i.message}`);
    throw new ConfigError(`Invalid configuration:\n${problems.join('\n')}`);
  }
  const e = parsed.data;
  if (e.INBOUND_SMTP_PORT !== undefined && !e.INBOUND_DOMAIN) {
    throw new ConfigError(
      'Invalid configuration:\n  INBOUND_DOMAIN: required when INBOUND_SMTP_PORT is set',
    );
  }
  if (e.NODE_ENV === 'production' && !e.SESSION_SECRET) {
    throw new ConfigError(
      'Invalid configuration:\n  SESSION_SECRET: required when NODE_ENV=production',
    );
  }
  const dataDir = path.resolve(e.DATA_DIR);
  const baseUrl = new URL(e.BASE_URL ?? `http://localhost:${e.PORT}`);
  const sessionSecret = e.SESSION_SECRET ?? developmentSecret(dataDir);
  return {
    env: e.NODE_ENV,
    port: e.PORT,
    databaseUrl: e.DATABASE_URL,
    dataDir,
    baseUrl,
    smtpUrl: e.SMTP_URL,
    mailFrom: e.MAIL_FROM,
    sessionSecret,
    secrets: [sessionSecret, ...e.SESSION_SECRETS.filter((secret) => secret !== sessionSecret)],
    trustProxy: parseTrustProxy(e.TRUST_PROXY),
    secureCookies: e.NODE_ENV === 'production',
    logLevel: e.LOG_LEVEL,
    limits: defaultLimits,
    rateLimits: {
      signinPerAddressPerMinute: 1,
      signinPerAddressPerHour: e.SIGNIN_PER_ADDRESS_PER_HOUR,
      signinPerIpPerHour: e.SIGNIN_PER_IP_PER_HOUR,
      newTicketPerIpPerHour: e.NEW_TICKET_PER_IP_PER_HOUR,
      newTicketByMailPerSenderPerHour: e.NEW_TICKET_BY_MAIL_PER_SENDER_PER_HOUR,
      newTicketByMailPerWorkspacePerHour: e.NEW_TICKET_BY_MAIL_PER_WORKSPACE_PER_HOUR,
      inboundAnswersPerAddressPerHour: 1,
      agentLoginFailuresPerAccount: e.AGENT_LOGIN_FAILURES_PER_ACCOUNT,
      agentLoginFailuresPerIp: e.AGENT_LOGIN_FAILURES_PER_IP,
    },
    sessions: {
      idleMs: e.SESSION_IDLE_DAYS * DAY,
      absoluteMs: e.SESSION_MAX_DAYS * DAY,
      activityWriteMs: 60_000,
    },
    magicLinkTtlMs: HOUR,
    signInCode: { ttlMs: 15 * 60_000, maxAttempts: 5 },
    pageSize: 25,
    threadPageSize: 30,
    reopenWindowMs: e.REOPEN_WINDOW_DAYS * DAY,
    housekeeping: {
      intervalMs: e.HOUSEKEEPING_INTERVAL_MINUTES * 60_000,
      sentMailRetentionMs: 7 * DAY,
      failedMailRetentionMs: 30 * DAY,
      heldTicketRetentionMs: 7 * DAY,
      inboundReceiptRetentionMs: 7 * DAY,
    },
    mailWorker: {
      pollMs: 1000,
      maxBackoffMs: HOUR,
      retryForMs: e.MAIL_RETRY_HOURS * HOUR,
      connections: e.MAIL_SMTP_CONNECTIONS,
    },
    audit: { retentionMs: e.AUDIT_RETENTION_DAYS * DAY, pageSize: 25 },
    attachments: {
      maxFiles: e.ATTACHMENT_MAX_FILES,
      maxFileBytes: e.ATTACHMENT_MAX_FILE_MB * MB,
      maxMessageBytes: e.ATTACHMENT_MAX_MESSAGE_MB * MB,
      maxMailBytes: e.MAIL_ATTACHMENTS_MAX_MB * MB,
    },
    inbound: {
      domain: e.INBOUND_DOMAIN?.toLowerCase(),
      smtpPort: e.INBOUND_SMTP_PORT,
      smtpHost: e.INBOUND_SMTP_HOST,
      maxMessageBytes: e.INBOUND_MAX_MESSAGE_MB * MB,
    },
  };
}

/** The public origin of one workspace, e.g. http://acme.localhost:3000. */
export function workspaceOrigin(config: Pick<Config, 'baseUrl'>, slug: string): string {
  const { protocol, hostname, port } = config.baseUrl;
  return `${protocol}//${slug}.${hostname}${port ? `:${port}` : ''}`;
}
