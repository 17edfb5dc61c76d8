import type { Request } from 'express';
import type { Environment } from 'nunjucks';
import type { Logger } from 'pino';
import type { Config } from './config';
import type { Db } from './db/knex';
import type { MailTransport } from './services/mail-transport';
import type { RateLimits } from './services/rate-limits';

export interface Clock {
  now(): Date;
}

export const systemClock: Clock = { now: () => new Date() };

/** Everything the app needs from outside, passed in explicitly so tests can swap any part. */
export interface Deps {
  config: Config;
  db: Db;
  clock: Clock;
  logger: Logger;
  templates: Environment;
  mailTransport: MailTransport;
  rateLimits: RateLimits;
}

declare module 'express-serve-static-core' {
  interface Locals {
    deps: Deps;
  }
}

export function depsOf(req: Request): Deps {
  return req.app.locals.deps;
}
