import { spawn, type ChildProcess } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';

/**
 * The real server (src/server.ts) in a process of its own, and a few plain HTTP helpers to talk
 * to it as a browser behind a load balancer would: one Host, cookies kept by the test.
 */
export const ROOT = path.resolve(__dirname, '../..');

export interface Reply {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: string;
}

/** Pids of PostgreSQL processes serving the cluster in this data directory (read from /proc). */
export function postgresOf(dataDir: string): number[] {
  const databaseDir = path.join(dataDir, 'postgres');
  const found: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const args = readFileSync(`/proc/${entry}/cmdline`, 'utf8').split('\0');
      if (args.some((a) => a.endsWith('/postgres')) && args.includes(databaseDir))
        found.push(Number(entry));
    } catch {
      // gone meanwhile
    }
  }
  return found;
}

export async function until(
  what: string | (() => string),
  check: () => boolean | Promise<boolean>,
  ms = 15_000,
) {
  const started = Date.now();
  while (!(await check())) {
    if (Date.now() - started > ms)
      throw new Error(`timed out waiting until ${typeof what === 'string' ? what : what()}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

export class ServerProcess {
  readonly child: ChildProcess;
  output = '';
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;

  /** The public host:port of the workspace acme: this server's own, or the load balancer's. */
  readonly publicHost: string;

  constructor(
    readonly dataDir: string,
    readonly port: number,
    env: Record<string, string> = {},
    publicPort = port,
  ) {
    this.publicHost = `acme.localhost:${publicPort}`;
    this.child = spawn(process.execPath, ['--import', 'tsx', 'src/server.ts'], {
      cwd: ROOT,
      // Its own process group, so a test can kill the group as a supervisor would.
      detached: true,
      stdio: ['ignore', 'pipe', 'pipe'],
      env: {
        PATH: process.env.PATH ?? '',
        HOME: process.env.HOME ?? os.tmpdir(),
        NODE_ENV: 'development',
        DATA_DIR: dataDir,
        PORT: String(port),
        LOG_LEVEL: 'info',
        ...env,
      },
    });
    this.child.stdout!.on('data', (c: Buffer) => (this.output += c.toString()));
    this.child.stderr!.on('data', (c: Buffer) => (this.output += c.toString()));
    this.exited = new Promise((resolve) =>
      this.child.on('exit', (code, signal) => resolve({ code, signal })),
    );
  }

  async ready(): Promise<void> {
    await until(
      () => `the server answers (output so far:\n${this.output})`,
      async () => (await this.request('GET', '/healthz').catch(() => undefined))?.status === 200,
      60_000,
    );
  }

  request(
    method: string,
    pathname: string,
    options: { cookie?: string; form?: Record<string, string> } = {},
  ): Promise<Reply> {
    const body = options.form ? new URLSearchParams(options.form).toString() : undefined;
    return new Promise((resolve, reject) => {
      const req = http.request(
        {
          host: '127.0.0.1',
          port: this.port,
          method,
          path: pathname,
          agent: false,
          headers: {
            Host: this.publicHost,
            ...(options.cookie ? { Cookie: options.cookie } : {}),
            ...(body
              ? {
                  'Content-Type': 'application/x-www-form-urlencoded',
                  Origin: `http://${this.publicHost}`,
                }
              : {}),
          },
        },
        (res) => {
          let text = '';
          res.on('data', (c: Buffer) => (text += c.toString()));
          res.on('end', () =>
            resolve({ status: res.statusCode ?? 0, headers: res.headers, body: text }),
          );
        },
      );
      req.on('error', reject);
      req.end(body);
    });
  }
}

export function cookiesOf(reply: Reply, jar: Map<string, string>): string {
  for (const line of reply.headers['set-cookie'] ?? []) {
    const [pair] = line.split(';');
    const [name, ...value] = pair!.split('=');
    jar.set(name!.trim(), value.join('='));
  }
  return [...jar].map(([n, v]) => `${n}=${v}`).join('; ');
}

export function csrfOf(html: string): string {
  const match = /name="_csrf" value="([^"]+)"/.exec(html);
  if (!match) throw new Error('no CSRF token on the page');
  return match[1]!;
}
