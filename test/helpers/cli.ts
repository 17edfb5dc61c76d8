import { spawn } from 'node:child_process';
import os from 'node:os';
import path from 'node:path';
import { testDatabase } from './database';

const ROOT = path.resolve(__dirname, '../..');
const TSX = path.join(ROOT, 'node_modules/.bin/tsx');

export interface CliRun {
  code: number | null;
  stdout: string;
  stderr: string;
}

/**
 * The real operator CLI in its own process against the suite's database, with only the
 * environment given here (DATA_DIR points at nothing real, so it is never used), and what is
 * given as its standard input.
 */
export function cliOnTestDb(
  args: string[],
  env: Record<string, string> = {},
  stdin?: string | Buffer,
): Promise<CliRun> {
  return new Promise((resolve, reject) => {
    const child = spawn(TSX, ['src/cli.ts', ...args], {
      cwd: ROOT,
      env: {
        PATH: process.env.PATH ?? '',
        HOME: process.env.HOME ?? os.tmpdir(),
        NODE_ENV: 'test',
        SESSION_SECRET: 'test-secret-test-secret-test-secret-0123',
        BASE_URL: 'http://localhost:3000',
        DATABASE_URL: testDatabase().url,
        DATA_DIR: path.join(os.tmpdir(), 'tickets-cli-unused'),
        ...env,
      },
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
    child.stdin.end(stdin);
  });
}
