import { translate, type MessageValues } from './i18n/translate';

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

/** A catalogue message not yet formatted: its key and values, for the reader's language. */
export interface LocalText {
  key: string;
  values?: MessageValues;
}

/**
 * A rule of the domain was broken by otherwise well-formed input (e.g. rating an open ticket).
 * `message` is English (the agent app and logs); a customer's page formats `text` in its own
 * language instead, when the rule has one.
 */
export class ValidationError extends Error {
  constructor(
    readonly field: string,
    message: string,
    readonly text?: LocalText,
  ) {
    super(message);
  }

  /** A rule the portal states to customers: its words come from the catalogues. */
  static of(field: string, key: string, values?: MessageValues): ValidationError {
    return new ValidationError(field, translate('en', key, values), { key, values });
  }
}

/** A body, a file or a message's files together over their size limit. */
export class PayloadTooLargeError extends HttpError {
  constructor(message = 'Payload too large') {
    super(413, message);
  }
}
