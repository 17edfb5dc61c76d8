import assert from 'node:assert/strict';
import fc from 'fast-check';
import pg from 'pg';
import { parseTimestamptz } from '../../src/db/timestamps';
import { testDatabase } from '../helpers/database';

// node-postgres's own parser (postgres-date), taken before ours replaced it.
// eslint-disable-next-line @typescript-eslint/no-require-imports -- the reference implementation
const reference = require('postgres-date') as (text: string) => Date | number | null;

function same(text: string): void {
  const ours = parseTimestamptz(text);
  const theirs = reference(text);
  assert.deepEqual(
    ours instanceof Date ? ours.getTime() : ours,
    theirs instanceof Date ? theirs.getTime() : theirs,
    text,
  );
}

describe('reading timestamptz', () => {
  it('gives the same instant as node-postgres for the text PostgreSQL writes', () => {
    for (const text of [
      '2026-11-30 15:21:32.123456+00',
      '2026-11-30 15:21:32+00',
      '2026-03-29 01:30:00.5+02',
      '2025-01-01 00:00:00.000001+05:30',
      '2025-01-01 00:00:00-09:30',
      '1969-12-31 23:59:59.999+00',
      '0099-01-01 00:00:00+00',
      '2025-01-01 00:00:00+05:30:15',
      '10000-01-01 00:00:00+00',
      '2025-01-01 00:00:00+00 BC',
      'infinity',
      '-infinity',
    ]) {
      same(text);
    }
  });

  it('agrees with node-postgres on any instant and offset (fast-check)', () => {
    const pad = (n: number, width = 2) => String(n).padStart(width, '0');
    fc.assert(
      fc.property(
        fc.date({
          min: new Date('0100-01-01T00:00:00Z'),
          max: new Date('9999-12-31T00:00:00Z'),
          noInvalidDate: true,
        }),
        fc.integer({ min: 0, max: 999999 }),
        fc.integer({ min: -15 * 60, max: 15 * 60 }),
        fc.boolean(),
        (date, micros, offsetMinutes, withFraction) => {
          const local = new Date(date.getTime() + offsetMinutes * 60_000);
          const sign = offsetMinutes < 0 ? '-' : '+';
          const abs = Math.abs(offsetMinutes);
          const offset = `${sign}${pad(Math.floor(abs / 60))}${abs % 60 ? `:${pad(abs % 60)}` : ''}`;
          const text =
            `${pad(local.getUTCFullYear(), 4)}-${pad(local.getUTCMonth() + 1)}-${pad(local.getUTCDate())} ` +
            `${pad(local.getUTCHours())}:${pad(local.getUTCMinutes())}:${pad(local.getUTCSeconds())}` +
            (withFraction ? `.${pad(micros, 6).replace(/0+$/, '') || '0'}` : '') +
            offset;
          same(text);
        },
      ),
      { numRuns: 2000 },
    );
  });

  it('is what the app reads from PostgreSQL, in any session time zone', async () => {
    const { db } = testDatabase();
    for (const zone of ['UTC', 'Asia/Kolkata', 'America/St_Johns', 'Europe/Madrid']) {
      const result = await db.transaction(async (trx) => {
        await trx.raw(`set local time zone '${zone}'`);
        return trx.raw<{ rows: { at: Date; text: string }[] }>(
          `select t as at, t::text as text from (values
             (timestamptz '2026-03-29 00:30:00.123456Z'), (timestamptz '2026-10-25 01:30:00Z'),
             (timestamptz '1999-12-31 23:59:59.999999Z')) v(t)`,
        );
      });
      for (const row of result.rows) {
        assert.ok(row.at instanceof Date);
        assert.equal(
          row.at.getTime(),
          (reference(row.text) as Date).getTime(),
          `${zone}: ${row.text}`,
        );
      }
    }
    assert.equal(pg.types.getTypeParser(pg.types.builtins.TIMESTAMPTZ, 'text'), parseTimestamptz);
  });
});
