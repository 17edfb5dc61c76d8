/**
 * Typed errors that the one error handler turns into pages. Anything else is a bug and
 * becomes a plain 500 without details.
 */
export class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

export class NotFoundError extends HttpError {
  constructor(message = 'Not found') {
    super(404, message);
  }
}

export class ForbiddenError extends HttpError {
  constructor(message = 'Forbidden') {
    super(403, message);
  }
}

export class TooManyRequestsError extends HttpError {
  constructor(readonly retryAfterSeconds: number) {
    super(429, 'Too many requests');
  }
}

/** A rule of the domain was broken by otherwise well-formed input (e.g. rating an open ticket). */
export class ValidationError extends Error {
  constructor(
    readonly field: string,
    message: string,
  ) {
    super(message);
  }
}

/** A body, a file or a message's files together over their size limit. */
export class PayloadTooLargeError extends HttpError {
  constructor(message = 'Payload too large') {
    super(413, message);
  }
}
