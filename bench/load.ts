import http from 'node:http';
import autocannon from 'autocannon';
import { cpuMsOf } from './processes';

/** One request, repeated: the same method, path, headers and body every time. */
export interface Call {
  method: 'GET' | 'POST';
  path: string;
  headers: Record<string, string>;
  body?: string;
  /** The status every answer must have; anything else counts as an error. */
  expect: number;
}

export interface LoadOptions {
  connections: number;
  /** Measured seconds. */
  duration: number;
  /** Seconds of the same load before, not measured. */
  warmup: number;
}

export interface LoadResult {
  requestsPerSec: number;
  /** Latencies in milliseconds. */
  p50: number;
  p90: number;
  p99: number;
  max: number;
  requests: number;
  /** The server process's CPU time during the measured run (not the warm-up), if its pid was given. */
  cpuMs?: number;
  /** Connection errors and timeouts. */
  errors: number;
  timeouts: number;
  non2xx: number;
  /** Answers with any status but the expected one. */
  unexpected: number;
  statusCodes: Record<string, number>;
}

function run(port: number, call: Call, connections: number, duration: number) {
  return autocannon({
    url: `http://127.0.0.1:${port}${call.path}`,
    method: call.method,
    headers: call.headers,
    body: call.body,
    connections,
    duration,
    timeout: 10,
  });
}

/** Warm-up, then the measured run: autocannon with `connections` keep-alive connections. */
export async function load(
  port: number,
  call: Call,
  options: LoadOptions,
  pid?: number,
): Promise<LoadResult> {
  if (options.warmup > 0) await run(port, call, options.connections, options.warmup);
  const cpuBefore = pid === undefined ? undefined : cpuMsOf(pid);
  const result = await run(port, call, options.connections, options.duration);
  const cpuAfter = pid === undefined ? undefined : cpuMsOf(pid);
  const statusCodes: Record<string, number> = {};
  for (const [code, stat] of Object.entries(result.statusCodeStats ?? {})) {
    statusCodes[code] = stat.count ?? 0;
  }
  const answered = Object.values(statusCodes).reduce((a, b) => a + b, 0);
  return {
    requestsPerSec: result.requests.average,
    p50: result.latency.p50,
    p90: result.latency.p90,
    p99: result.latency.p99,
    max: result.latency.max,
    requests: answered,
    errors: result.errors,
    timeouts: result.timeouts,
    non2xx: result.non2xx,
    unexpected: answered - (statusCodes[String(call.expect)] ?? 0),
    statusCodes,
    cpuMs: cpuBefore !== undefined && cpuAfter !== undefined ? cpuAfter - cpuBefore : undefined,
  };
}

/** How long the single-client run of a latency target lasts. */
export const ALONE_SECONDS = 3;

/** Latency with nobody else asking: one connection, one request after another. */
export interface AloneResult {
  p50: number;
  p99: number;
  requests: number;
}

/**
 * The same call from a single client for `seconds`: what one person waits for when the server
 * is not queueing fifty others' requests ahead of theirs (under load, p50 is mostly that queue).
 */
export async function alone(port: number, call: Call, seconds: number): Promise<AloneResult> {
  const result = await run(port, call, 1, seconds);
  return { p50: result.latency.p50, p99: result.latency.p99, requests: result.requests.total };
}

export interface Answer {
  status: number;
  body: string;
}

/** How long a single request (outside the load) may take before it counts as failed. */
export const REQUEST_TIMEOUT_MS = 30_000;

/** One request of a call, its whole body read (probes and the counting pass). */
export function once(port: number, call: Call): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const headers = { ...call.headers };
    if (call.body !== undefined) headers['content-length'] = String(Buffer.byteLength(call.body));
    const req = http.request(
      { host: '127.0.0.1', port, method: call.method, path: call.path, headers },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('error', reject);
        res.on('end', () =>
          resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }),
        );
      },
    );
    req.on('error', reject);
    req.setTimeout(REQUEST_TIMEOUT_MS, () =>
      req.destroy(
        new Error(`no answer to ${call.method} ${call.path} in ${REQUEST_TIMEOUT_MS / 1000} s`),
      ),
    );
    req.end(call.body);
  });
}
