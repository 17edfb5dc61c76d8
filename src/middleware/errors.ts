import type { NextFunction, Request, Response } from 'express';
import { healthOf, isDatabaseUnavailable } from '../db/availability';
import { depsOf } from '../deps';
import { HttpError, NotFoundError, TooManyRequestsError } from '../errors';
import { isCsrfError } from './csrf';

const PAGES = new Set([400, 403, 404, 413, 429, 503]);

/** A database outage is answered 503 with this Retry-After: the page says "in a minute". */
const RETRY_AFTER_OUTAGE_SECONDS = 60;

export function notFound(): never {
  throw new NotFoundError();
}

/** body-parser and friends mark their errors with an HTTP status (413, 415, 400). */
function statusOf(error: unknown): number {
  if (error instanceof HttpError) return error.status;
  if (isCsrfError(error)) return 403;
  if (isDatabaseUnavailable(error)) return 503;
  const status = (error as { status?: unknown } | null)?.status;
  if (typeof status === 'number' && status >= 400 && status < 500) return status;
  return 500;
}

/** The one place that writes error pages: plain, unbranded, without details. */
export function errorHandler(
  error: unknown,
  req: Request,
  res: Response,
  next: NextFunction,
): void {
  if (res.headersSent) return next(error);
  const status = statusOf(error);
  const { db, logger } = depsOf(req);
  if (status === 500) logger.error({ err: error }, 'unhandled error');
  // Logged once per outage, not once per request (see db/availability.ts).
  if (status === 503) healthOf(db, logger).down(error);
  if (error instanceof TooManyRequestsError)
    res.set('Retry-After', String(error.retryAfterSeconds));
  if (status === 503) res.set('Retry-After', String(RETRY_AFTER_OUTAGE_SECONDS));
  const page = status === 500 ? 500 : PAGES.has(status) ? status : 400;
  res
    .status(status)
    .render(`errors/${page}.njk`, { csrfError: isCsrfError(error) }, (renderError, html) => {
      if (renderError) {
        logger.error({ err: renderError }, 'error page failed');
        res.type('text').send('Sorry, there is a problem with the service.');
        return;
      }
      res.send(html);
    });
}
