import assert from 'node:assert/strict';
import express, { Router, type ErrorRequestHandler, type RequestHandler } from 'express';
import request from 'supertest';
import { chain } from '../../src/middleware/chain';

/** One app: a chain mounted at /tickets in a router, a route after it, and an error handler. */
function appWith(...steps: RequestHandler[]) {
  const app = express();
  const router = Router();
  router.use('/tickets', chain(...steps));
  router.get('/tickets/page', (_req, res) => {
    res.send(`route ${String(res.locals.trail)}`);
  });
  app.use(router);
  app.get('/tickets/page', (_req, res) => {
    res.send(`after the router ${String(res.locals.trail)}`);
  });
  const errors: ErrorRequestHandler = (error: Error, _req, res, _next) => {
    res.status(500).send(`error ${error.message} ${String(res.locals.trail)}`);
  };
  app.use(errors);
  return app;
}

const step =
  (name: string): RequestHandler =>
  (req, res, next) => {
    res.locals.trail = [
      ...((res.locals.trail as string[] | undefined) ?? []),
      `${name}@${req.baseUrl}${req.url}`,
    ];
    next();
  };

describe('middlewares chained into one', () => {
  it('run in order, each seeing the URL as a middleware mounted at the path does, then the route', async () => {
    const response = await request(appWith(step('a'), step('b'))).get('/tickets/page');
    assert.equal(response.text, 'route a@/tickets/page,b@/tickets/page');
  });

  it('take arrays as they come, flattened in order', async () => {
    // A chain given an array (as sessions() and csrfProtection() return), inside another chain.
    const app = appWith(chain([step('a'), step('b')], step('c')));
    assert.equal(
      (await request(app).get('/tickets/page')).text,
      'route a@/tickets/page,b@/tickets/page,c@/tickets/page',
    );
  });

  it('send a thrown error, a rejected promise and next(error) to the error handlers, skipping the rest', async () => {
    const thrower: RequestHandler = () => {
      throw new Error('thrown');
    };
    const rejecter: RequestHandler = async () => {
      await Promise.resolve();
      throw new Error('rejected');
    };
    const passer: RequestHandler = (_req, _res, next) => {
      next(new Error('passed'));
    };
    for (const [bad, message] of [
      [thrower, 'thrown'],
      [rejecter, 'rejected'],
      [passer, 'passed'],
    ] as const) {
      const response = await request(appWith(step('a'), bad, step('never'))).get('/tickets/page');
      assert.equal(response.status, 500);
      assert.equal(response.text, `error ${message} a@/tickets/page`);
    }
  });

  it("carry on after next('route') as Express does for a middleware, and leave the router after next('router')", async () => {
    const skipRoute: RequestHandler = (_req, _res, next) => {
      next('route');
    };
    const leave: RequestHandler = (_req, _res, next) => {
      next('router');
    };
    assert.equal(
      (await request(appWith(skipRoute, step('b'))).get('/tickets/page')).text,
      'route b@/tickets/page',
    );
    assert.equal(
      (await request(appWith(step('a'), leave, step('never'))).get('/tickets/page')).text,
      'after the router a@/tickets/page',
    );
  });

  it('refuses an error handler, which Express would have skipped in the normal flow', () => {
    const handler = ((_error: unknown, _req: unknown, _res: unknown, next: () => void) => {
      next();
    }) as unknown as RequestHandler;
    assert.throws(() => chain(step('a'), handler), TypeError);
  });
});
