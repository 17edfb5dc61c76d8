import http from 'node:http';
import { REQUEST_TIMEOUT_MS } from './load';
import { rssOf } from './processes';

export interface ExportResult {
  status: number;
  rows: number;
  bytes: number;
  ms: number;
  /** The server's resident memory just before the request, and the most seen while streaming. */
  rssBefore?: number;
  rssPeak?: number;
  /** Why the download failed, when it did. */
  error?: string;
}

const SAMPLE_MS = 20;

/**
 * Downloads the CSV export, counting records (CRLF outside quotes) without keeping the body,
 * while sampling the server's resident memory every 20 ms.
 */
export function streamExport(
  port: number,
  path: string,
  headers: Record<string, string>,
  serverPid: number,
): Promise<ExportResult> {
  return new Promise((resolve, reject) => {
    const rssBefore = rssOf(serverPid);
    let rssPeak = rssBefore;
    const sample = (): void => {
      const rss = rssOf(serverPid);
      if (rss !== undefined) rssPeak = Math.max(rssPeak ?? 0, rss);
    };
    const sampler = setInterval(sample, SAMPLE_MS);
    const started = process.hrtime.bigint();
    const fail = (error: Error): void => {
      clearInterval(sampler);
      reject(error);
    };
    const req = http.get(
      { host: '127.0.0.1', port, path, headers: { ...headers, 'accept-encoding': 'identity' } },
      (res) => {
        let records = 0;
        let bytes = 0;
        let quoted = false;
        let previous = 0;
        res.on('data', (chunk: Buffer) => {
          bytes += chunk.length;
          for (const byte of chunk) {
            if (byte === 0x22) quoted = !quoted;
            else if (byte === 0x0a && previous === 0x0d && !quoted) records++;
            previous = byte;
          }
        });
        res.on('end', () => {
          clearInterval(sampler);
          sample();
          resolve({
            status: res.statusCode ?? 0,
            rows: Math.max(0, records - 1),
            bytes,
            ms: Number(process.hrtime.bigint() - started) / 1e6,
            rssBefore,
            rssPeak,
          });
        });
        res.on('error', fail);
      },
    );
    req.on('error', fail);
    req.setTimeout(REQUEST_TIMEOUT_MS, () =>
      req.destroy(new Error(`the export sent nothing for ${REQUEST_TIMEOUT_MS / 1000} s`)),
    );
  });
}
