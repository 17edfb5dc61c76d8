import knex, { type Knex } from 'knex';
import pg from 'pg';
import { databaseTimeouts } from '../config';
import { deferStatementsOn } from './deferred-statements';
import { useFastTimestamps } from './timestamps';

export type Db = Knex;
export type Trx = Knex.Transaction;

// Return bigint counts and numeric columns as JS numbers; our counters stay far below 2^53.
pg.types.setTypeParser(pg.types.builtins.INT8, (v) => Number(v));
useFastTimestamps();

export function createDb(connectionString: string, poolMax = 10): Db {
  return knex({
    client: 'pg',
    connection: {
      connectionString,
      application_name: 'tickets-portal',
      connectionTimeoutMillis: databaseTimeouts.connectMs,
    },
    pool: {
      min: 0,
      max: poolMax,
      // BEGIN and scope settings travel with the statement after them: see deferred-statements.ts.
      afterCreate(
        connection: pg.Client,
        done: (error: Error | null, connection: pg.Client) => void,
      ) {
        deferStatementsOn(connection);
        done(null, connection);
      },
    },
    acquireConnectionTimeout: databaseTimeouts.acquireMs,
    log: {
      // knex prints every failed connection attempt, so an outage would print one a request; the
      // request itself reports it (a 503, logged once per outage: see db/availability.ts).
      warn(message: string) {
        if (!message.startsWith('Acquire connection error')) process.stderr.write(`${message}\n`);
      },
    },
  });
}

/** A pool of statements that stand alone (createPool), as the models that use one see it. */
export type StandalonePool = pg.Pool;

/**
 * A plain node-postgres pool, for statements that stand outside any page transaction (session
 * rows, rate-limit counters, the workspace of a request without a session): same timeouts as the
 * knex pool.
 */
export function createPool(connectionString: string, max: number): pg.Pool {
  return new pg.Pool({
    connectionString,
    max,
    // Named apart from knex's connections, so an operator (or a test) can tell them apart.
    application_name: 'tickets-portal-sessions',
    connectionTimeoutMillis: databaseTimeouts.connectMs,
  });
}

export interface RoleCheck {
  superuser: boolean;
  bypassRls: boolean;
}

/** Whether ILIKE may use an index under row-level security (see LEAKPROOF_ILIKE in embedded.ts). */
export async function ilikeIsLeakproof(db: Db): Promise<boolean> {
  const result = await db.raw<{ rows: { proleakproof: boolean }[] }>(
    `select proleakproof from pg_proc where oid = 'pg_catalog.texticlike(text, text)'::regprocedure`,
  );
  return result.rows[0]?.proleakproof ?? false;
}

/** Whether the portal's word search may use its indexes (see LEAKPROOF_FULL_TEXT in embedded.ts). */
export async function fullTextIsLeakproof(db: Db): Promise<boolean> {
  const result = await db.raw<{ rows: { leakproof: boolean }[] }>(
    `select bool_and(proleakproof) as leakproof from pg_proc
      where oid in ('pg_catalog.to_tsvector(regconfig, text)'::regprocedure,
                    'pg_catalog.ts_match_vq(tsvector, tsquery)'::regprocedure)`,
  );
  return result.rows[0]?.leakproof ?? false;
}

/** Row-level security means nothing to a superuser or a BYPASSRLS role: start-up warns. */
export async function currentRole(db: Db): Promise<RoleCheck> {
  const result = await db.raw<{ rows: { rolsuper: boolean; rolbypassrls: boolean }[] }>(
    'select rolsuper, rolbypassrls from pg_roles where rolname = current_user',
  );
  const row = result.rows[0];
  return { superuser: row?.rolsuper ?? false, bypassRls: row?.rolbypassrls ?? false };
}
