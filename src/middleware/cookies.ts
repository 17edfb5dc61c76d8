import cookieParser from 'cookie-parser';
import type { NextFunction, Request, RequestHandler, Response } from 'express';

/**
 * cookie-parser turns any cookie whose value starts with `j:` into the JSON it holds. This app
 * never sets such a cookie, and express-session reads `req.cookies` as a fallback expecting
 * strings, so a planted `portal_sid=j:{}` answered 500. Whatever is not a string is dropped.
 */
function keepStrings(cookies: Record<string, unknown>): void {
  for (const [name, value] of Object.entries(cookies)) {
    if (typeof value !== 'string') delete cookies[name];
  }
}

function onlyStrings(req: Request, _res: Response, next: NextFunction): void {
  keepStrings(req.cookies as Record<string, unknown>);
  keepStrings(req.signedCookies as Record<string, unknown>);
  next();
}

/** Cookies as strings; signed ones (CSRF secrets, one-time notices) checked against the secrets. */
export function cookies(secrets: string | string[]): RequestHandler[] {
  return [cookieParser(secrets), onlyStrings];
}
