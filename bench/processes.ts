import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, openSync, readFileSync } from 'node:fs';
import http from 'node:http';
import { setTimeout as sleep } from 'node:timers/promises';

export { freePort } from '../src/db/embedded';

/** Resident memory of a process in bytes (VmRSS in /proc/<pid>/status), or undefined off Linux. */
export function rssOf(pid: number): number | undefined {
  try {
    const match = /^VmRSS:\s+(\d+)\s+kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return match ? Number(match[1]) * 1024 : undefined;
  } catch {
    return undefined;
  }
}

/**
 * CPU time a process (all its threads) has used so far, in milliseconds: user + system from
 * /proc/<pid>/stat, in clock ticks (100 a second on Linux). On a shared machine this, per
 * request, is steadier than requests per second: other processes take wall time, not CPU time.
 */
export function cpuMsOf(pid: number): number | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) * 10;
  } catch {
    return undefined;
  }
}

export interface Child {
  name: string;
  pid: number;
  port: number;
  logFile: string;
  /** How the process ended (e.g. "SIGKILL", "code 1"), or undefined while it runs. */
  exit(): string | undefined;
  stop(): Promise<void>;
}

/**
 * A server as its own process: `node <script>`, stderr (and stdout when asked) to a log file, ready
 * when GET /healthz answers 200. A child that dies first fails with its log file named.
 */
export async function startServer(input: {
  name: string;
  script: string;
  args?: string[];
  /** Options for node itself, before the script (e.g. --cpu-prof). */
  nodeArgs?: string[];
  port: number;
  env: Record<string, string>;
  logFile: string;
  /** Also keep stdout (the app's request log) in the log file; otherwise it is discarded. */
  keepStdout: boolean;
}): Promise<Child> {
  const log = openSync(input.logFile, 'a');
  const child = spawn(
    process.execPath,
    [...(input.nodeArgs ?? []), input.script, ...(input.args ?? [])],
    {
      env: { ...process.env, ...input.env },
      stdio: ['ignore', input.keepStdout ? log : 'ignore', log],
    },
  );
  closeSync(log);
  let exit: string | undefined;
  const exited = new Promise<void>((resolve) => {
    child.once('exit', (code, signal) => {
      exit = signal ?? `code ${code}`;
      resolve();
    });
  });
  const stop = () => stopChild(child, exited);
  const pid = child.pid;
  if (pid === undefined) throw new Error(`${input.name} did not start`);
  const deadline = Date.now() + 60_000;
  while (!(await healthy(input.port))) {
    if (exit !== undefined) {
      throw new Error(`${input.name} exited (${exit}) before it was ready: see ${input.logFile}`);
    }
    if (Date.now() > deadline) {
      await stop();
      throw new Error(`${input.name} not ready after 60 s: see ${input.logFile}`);
    }
    await sleep(100);
  }
  return {
    name: input.name,
    pid,
    port: input.port,
    logFile: input.logFile,
    exit: () => exit,
    stop,
  };
}

async function stopChild(child: ChildProcess, exited: Promise<void>): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
  await exited;
  clearTimeout(timer);
}

function healthy(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const req = http.get({ host: '127.0.0.1', port, path: '/healthz', agent: false }, (res) => {
      res.resume();
      resolve(res.statusCode === 200);
    });
    req.on('error', () => resolve(false));
    req.setTimeout(2000, () => req.destroy());
  });
}
