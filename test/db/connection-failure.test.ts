import assert from 'node:assert/strict';
import pg from 'pg';
import { freePort } from '../../src/db/embedded';
import {
  connectionFailure,
  databaseAddress,
  DatabaseConnectionError,
} from '../../src/db/connection-failure';
import { createDb } from '../../src/db/knex';
import { testDatabase } from '../helpers/database';

/** The error a first query fails with, through the app's own knex pool. */
async function firstQueryFailure(url: string): Promise<unknown> {
  const db = createDb(url, 1);
  try {
    await db.raw('select 1');
  } catch (error) {
    return error;
  } finally {
    await db.destroy();
  }
  assert.fail('expected the query to fail');
}

/** The error `work` fails with, from a client of its own on the test database. */
async function failureOf(work: (client: pg.Client) => Promise<unknown>): Promise<unknown> {
  const client = new pg.Client({ connectionString: testDatabase().url });
  client.on('error', () => undefined);
  await client.connect();
  try {
    await work(client);
  } catch (error) {
    return error;
  } finally {
    await client.end().catch(() => undefined);
  }
  assert.fail('expected the work to fail');
}

describe('telling a database that cannot be reached from other failures', () => {
  it('names host and port of the connection string, never its credentials', () => {
    assert.equal(
      databaseAddress('postgres://app:s3cret@db.internal:6432/tickets'),
      'db.internal:6432',
    );
    assert.equal(
      databaseAddress('postgresql://app:s3cret@db.internal/tickets'),
      'db.internal:5432',
    );
  });

  it('a port where nothing listens is "connection refused"', async () => {
    const url = `postgres://app:s3cret@127.0.0.1:${await freePort()}/tickets`;
    const failure = connectionFailure(await firstQueryFailure(url), url);
    assert.ok(failure instanceof DatabaseConnectionError);
    assert.match(
      failure.message,
      /^Cannot reach the database at 127\.0\.0\.1:\d+: connection refused$/,
    );
  });

  it('a connection the server ends is a failure to reach it; a statement that fails is not', async () => {
    const ended = await failureOf((client) =>
      client.query('select pg_terminate_backend(pg_backend_pid())'),
    );
    assert.match(
      connectionFailure(ended, testDatabase().url)?.message ?? '',
      /^Cannot reach the database at .+: the server ended the connection$/,
    );
    const timedOut = await failureOf(async (client) => {
      await client.query('set statement_timeout = 10');
      await client.query('select pg_sleep(1)');
    });
    assert.equal((timedOut as { code?: string }).code, '57014');
    assert.equal(connectionFailure(timedOut, testDatabase().url), undefined);
    const broken = await failureOf((client) => client.query('select * from no_such_table'));
    assert.equal(connectionFailure(broken, testDatabase().url), undefined);
  });

  it('a wrong password is a refusal by the server, said as such', async function () {
    const url = new URL(testDatabase().url);
    url.password = 'not-the-password';
    const db = createDb(url.href, 1);
    const error = await db.raw('select 1').then(
      () => undefined,
      (failure: unknown) => failure,
    );
    await db.destroy();
    // A DATABASE_URL server that trusts local connections checks no password.
    if (error === undefined) this.skip();
    const failure = connectionFailure(error, url.href);
    assert.ok(failure instanceof DatabaseConnectionError);
    assert.match(
      failure.message,
      /^The database at .+ refused the connection: password authentication failed/,
    );
    assert.ok(!failure.message.includes('not-the-password'));
  });
});
