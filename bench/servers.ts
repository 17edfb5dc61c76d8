import path from 'node:path';
import { projectRoot } from '../src/project-root';
import { freePort, startServer, type Child } from './processes';

/**
 * Rate limits a scenario trips by design, raised through the app's own configuration: every
 * request of the bench comes from one client (127.0.0.1) and the sign-in request scenarios post
 * the same two addresses again and again.
 */
export const RAISED_LIMITS = [
  {
    variable: 'SIGNIN_PER_IP_PER_HOUR',
    value: '1000000000',
    why: 'all sign-in request POSTs come from one client IP; the default (20 an hour) would answer 429 after 20',
  },
  {
    variable: 'SIGNIN_PER_ADDRESS_PER_HOUR',
    value: '1000000000',
    why: 'the sign-in request scenarios post the same two addresses; the default (5 an hour) would answer 429 after 5',
  },
];

export interface AppServerInput {
  name: string;
  databaseUrl: string;
  dataDir: string;
  smtpPort: number;
  /** Shared by the measured and the counting server, so one session works on both. */
  sessionSecret: string;
  logFile: string;
  /** Write a CPU profile (node --cpu-prof) into this folder when stopped. */
  profileDir?: string;
  /** Keep the request log (stdout) in the log file too: for the small counting pass only. */
  keepRequestLog?: boolean;
}

/** The real app, compiled, in production mode, behind a "TLS proxy" on loopback. */
export async function startApp(input: AppServerInput): Promise<Child> {
  const port = await freePort();
  const limits = Object.fromEntries(RAISED_LIMITS.map((l) => [l.variable, l.value]));
  return startServer({
    name: input.name,
    script: path.join(projectRoot, 'dist/src/server.js'),
    nodeArgs: input.profileDir ? ['--cpu-prof', `--cpu-prof-dir=${input.profileDir}`] : [],
    port,
    logFile: input.logFile,
    keepStdout: input.keepRequestLog ?? false,
    env: {
      NODE_ENV: 'production',
      PORT: String(port),
      BASE_URL: `http://localhost:${port}`,
      DATABASE_URL: input.databaseUrl,
      DATA_DIR: input.dataDir,
      SESSION_SECRET: input.sessionSecret,
      TRUST_PROXY: 'loopback',
      LOG_LEVEL: 'info',
      SMTP_URL: `smtp://127.0.0.1:${input.smtpPort}`,
      ...limits,
    },
  });
}

/** The bare baseline (bare-server.ts), compiled, in its own process. */
export async function startBare(input: {
  name: string;
  databaseUrl: string;
  logFile: string;
}): Promise<Child> {
  const port = await freePort();
  return startServer({
    name: input.name,
    script: path.join(projectRoot, 'dist/bench/bare-server.js'),
    args: ['--port', String(port)],
    port,
    logFile: input.logFile,
    keepStdout: false,
    env: { NODE_ENV: 'production', BARE_DATABASE_URL: input.databaseUrl },
  });
}

/** The same database through another host and port (the counting proxy). */
export function viaProxy(databaseUrl: string, port: number): string {
  const url = new URL(databaseUrl);
  url.hostname = '127.0.0.1';
  url.port = String(port);
  return url.toString();
}

export function hostAndPort(databaseUrl: string): { host: string; port: number } {
  const url = new URL(databaseUrl);
  return { host: url.hostname || '127.0.0.1', port: Number(url.port || 5432) };
}
