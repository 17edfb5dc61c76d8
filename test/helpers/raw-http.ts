import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Express } from 'express';

/**
 * A request exactly as written: any method, an unnormalised path, repeated or odd headers, any
 * body bytes. supertest (through superagent) tidies much of that away, so hostile-input tests
 * speak plain node:http to a real listening server.
 */
export interface RawRequest {
  method: string;
  path: string;
  /** Name/value pairs, sent in this order; a name may repeat (two Cookie headers, say). */
  headers: [string, string][];
  body?: Buffer;
}

export interface RawResponse {
  status: number;
  headers: http.IncomingHttpHeaders;
  text: string;
}

export interface RawServer {
  send(request: RawRequest): Promise<RawResponse>;
  close(): Promise<void>;
}

export async function listen(app: Express): Promise<RawServer> {
  const server = http.createServer(app);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  // One connection per request, so a response that leaves its socket in a strange state cannot
  // affect the next request.
  const agent = new http.Agent({ keepAlive: false });
  return {
    send(request) {
      return new Promise((resolve, reject) => {
        const body = request.body ?? Buffer.alloc(0);
        const headers = request.headers.flat();
        if (request.body !== undefined || !['GET', 'HEAD'].includes(request.method)) {
          headers.push('Content-Length', String(body.length));
        }
        const req = http.request({
          host: '127.0.0.1',
          port,
          agent,
          method: request.method,
          path: request.path,
          setHost: false,
          headers,
          // Hosts and cookies are the test's to shape; the client must not check them.
          insecureHTTPParser: true,
        });
        req.on('error', reject);
        req.on('response', (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (chunk: Buffer) => chunks.push(chunk));
          res.on('error', reject);
          res.on('end', () =>
            resolve({
              status: res.statusCode ?? 0,
              headers: res.headers,
              text: Buffer.concat(chunks).toString('utf8'),
            }),
          );
        });
        req.end(body);
      });
    },
    async close() {
      agent.destroy();
      await new Promise<void>((resolve, reject) =>
        server.close((error) => (error ? reject(error) : resolve())),
      );
    },
  };
}
