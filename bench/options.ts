import { parseArgs } from 'node:util';
import { DEFAULT_ADMIN_PASSWORD } from './bench-data';
import { EXPORT_SCENARIO, scenarios } from './scenarios';

export interface Options {
  duration: number;
  warmup: number;
  connections: number;
  rounds: number;
  build: boolean;
  /** Scenario names to run (the bare baseline always runs); undefined: all. */
  only: string[] | undefined;
  adminPassword: string;
  bareUrl: string | undefined;
  /** Where the measured app server writes its CPU profile (node --cpu-prof), if anywhere. */
  profileDir: string | undefined;
}

export const USAGE = `npm run bench -- [options]

  --duration <s>        measured seconds per scenario (default 10)
  --warmup <s>          unmeasured seconds of the same load first (default 3)
  --connections <n>     concurrent connections (default 50)
  --rounds <n>          run the whole suite n times, printing the server's memory after each (default 1)
  --no-build            skip npm run build (dist/ must be current)
  --only <a,b,…>        run only these scenarios (the baseline and the floor always run): ${[...scenarios.map((s) => s.name), EXPORT_SCENARIO].join(', ')}
  --admin-password <p>  password of admin@bench.test (default: the seed's)
  --bare-url <url>      database URL for the bare baseline and the floor (a role that bypasses
                        row-level security and may create the floor's schema bench_floor;
                        required with DATABASE_URL, default: the embedded superuser)
  --profile <dir>       the measured app server runs with node --cpu-prof and writes its
                        profile there when the bench stops it
  --help`;

export class UsageError extends Error {}

function positive(name: string, value: string, allowZero = false): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < (allowZero ? 0 : 1)) {
    throw new UsageError(
      `--${name} must be a whole number${allowZero ? '' : ' above 0'}, not "${value}"`,
    );
  }
  return n;
}

/** The command line, or undefined after printing the usage for --help. */
export function parseOptions(args: string[]): Options | undefined {
  let parsed;
  try {
    parsed = parseArgs({
      args,
      strict: true,
      allowPositionals: false,
      options: {
        duration: { type: 'string', default: '10' },
        warmup: { type: 'string', default: '3' },
        connections: { type: 'string', default: '50' },
        rounds: { type: 'string', default: '1' },
        'no-build': { type: 'boolean', default: false },
        only: { type: 'string' },
        'admin-password': { type: 'string', default: DEFAULT_ADMIN_PASSWORD },
        'bare-url': { type: 'string' },
        profile: { type: 'string' },
        help: { type: 'boolean', default: false },
      },
    });
  } catch (error) {
    throw new UsageError(error instanceof Error ? error.message : String(error));
  }
  const { values } = parsed;
  if (values.help) return undefined;
  const known = new Set([...scenarios.map((s) => s.name), EXPORT_SCENARIO]);
  const only = values.only
    ?.split(',')
    .map((name) => name.trim())
    .filter(Boolean);
  const unknown = only?.filter((name) => !known.has(name)) ?? [];
  if (unknown.length) {
    throw new UsageError(`unknown scenario ${unknown.join(', ')}; known: ${[...known].join(', ')}`);
  }
  return {
    duration: positive('duration', values.duration),
    warmup: positive('warmup', values.warmup, true),
    connections: positive('connections', values.connections),
    rounds: positive('rounds', values.rounds),
    build: !values['no-build'],
    only,
    adminPassword: values['admin-password'],
    bareUrl: values['bare-url'],
    profileDir: values.profile,
  };
}
