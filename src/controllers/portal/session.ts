import type { Request } from 'express';

/** Promisified express-session calls shared by the portal's sign-in, visitor and sign-out handlers. */
export function regenerateSession(req: Request): Promise<void> {
  return new Promise((resolve, reject) => req.session.regenerate((e) => (e ? reject(e as Error) : resolve())));
}

export function saveSession(req: Request): Promise<void> {
  return new Promise((resolve, reject) => req.session.save((e) => (e ? reject(e as Error) : resolve())));
}

export function destroySession(req: Request): Promise<void> {
  return new Promise((resolve, reject) => req.session.destroy((e) => (e ? reject(e as Error) : resolve())));
}

/** A one-time message for the next page (PRG keeps no state otherwise). */
export function takeFlash(req: Request): string | undefined {
  const flash = req.session.flash;
  delete req.session.flash;
  return flash;
}
