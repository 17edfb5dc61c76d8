import type { NextFunction, Request, RequestHandler, Response } from 'express';

/**
 * Several middlewares run in order as one, with Express's own rules: a thrown error or a rejected
 * promise goes to the error handlers, `next(error)` likewise, and `next('route')` from a
 * middleware carries on as `next()` would. `next('router')` leaves the router, as before.
 *
 * Why: each middleware given to `router.use(path, …)` is a layer of its own, and the router
 * matches the path, strips and restores the prefix, and parses the URL again for every one of
 * them. The portal's dozen shared middlewares cost more in that bookkeeping than most of them
 * cost in their own work (router and parseurl were a tenth of the sign-in page's CPU profile).
 */
export function chain(...handlers: (RequestHandler | RequestHandler[])[]): RequestHandler {
  const steps = handlers.flat();
  // An error handler (four parameters) is skipped by Express in the normal flow; here it would
  // be called as a middleware, so none may be given.
  if (steps.some((step) => step.length > 3)) throw new TypeError('chain() takes no error handlers');
  return function chained(req: Request, res: Response, done: NextFunction): void {
    let index = 0;
    const next = (error?: unknown): void => {
      if (error === 'router' || (error !== undefined && error !== null && error !== 'route')) {
        done(error);
        return;
      }
      const step = steps[index];
      index += 1;
      if (!step) {
        done();
        return;
      }
      try {
        const result: unknown = step(req, res, next);
        if (result instanceof Promise) {
          result.catch((rejection: unknown) => {
            next(rejection ?? new Error('Rejected promise'));
          });
        }
      } catch (thrown) {
        next(thrown ?? new Error('Thrown without a value'));
      }
    };
    next();
  };
}
