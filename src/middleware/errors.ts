import type { NextFunction, Request, Response } from 'express';
import { depsOf } from '../deps';
import { HttpError, NotFoundError, TooManyRequestsError } from '../errors';
import { isCsrfError } from './csrf';

const PAGES = new Set([400, 403, 404, 413, 429]);

export function notFound(): never {
  throw new NotFoundError();
}

/** body-parser and friends mark their errors with an HTTP status (413, 415, 400). */
function statusOf(error: unknown): number {
  if (error instanceof HttpError) return error.status;
  if (isCsrfError(error)) return 403;
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
  if (status === 500) depsOf(req).logger.error({ err: error }, 'unhandled error');
  if (error instanceof TooManyRequestsError)
    res.set('Retry-After', String(error.retryAfterSeconds));
  const page = status === 500 ? 500 : PAGES.has(status) ? status : 400;
  res
    .status(status)
    .render(`errors/${page}.njk`, { csrfError: isCsrfError(error) }, (renderError, html) => {
      if (renderError) {
        depsOf(req).logger.error({ err: renderError }, 'error page failed');
        res.type('text').send('Sorry, there is a problem with the service.');
        return;
      }
      res.send(html);
    });
}
