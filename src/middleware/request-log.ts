import type { IncomingMessage, ServerResponse } from 'node:http';

/**
 * Sign-in tokens travel in the URL path; logs get the path with the token cut out, in any letter
 * case: /TICKETS/LOGIN/<token> is a 404, but its URL is logged all the same.
 */
export function redactUrl(url: string): string {
  return url.replace(/(\/tickets\/login\/)[^/?#]+/i, '$1[redacted]');
}

/**
 * What a request log line may hold: method, redacted URL, status. Never headers (cookies,
 * CSRF tokens) or bodies.
 */
export const requestLogSerializers = {
  req: (req: IncomingMessage & { originalUrl?: string }) => ({
    method: req.method,
    url: redactUrl(req.originalUrl ?? req.url ?? ''),
  }),
  res: (res: ServerResponse) => ({ statusCode: res.statusCode }),
};
