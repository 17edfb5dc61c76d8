import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { freePort } from '../../src/db/embedded';
import { testDatabase } from '../helpers/database';
import { aWorkspace, rows } from '../helpers/fixtures';
import { cookiesOf, csrfOf, ServerProcess } from '../helpers/server-process';

const MB = 1024 * 1024;

/** The server process's resident memory, from /proc, in bytes. */
function rssOf(pid: number): number {
  const kb = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1];
  return Number(kb) * 1024;
}

/** Samples a process's resident memory while `work` runs; answers the highest seen. */
async function peakRss(pid: number, work: () => Promise<void>): Promise<number> {
  let peak = rssOf(pid);
  const timer = setInterval(() => {
    peak = Math.max(peak, rssOf(pid));
  }, 10);
  try {
    await work();
  } finally {
    clearInterval(timer);
  }
  return Math.max(peak, rssOf(pid));
}

/**
 * The real server in a process of its own (so its memory is its own to measure), on the suite's
 * database. A form with five 10 MB files is sent and one file read back; the files are generated
 * as they are sent, so only the server could hold them whole.
 */
describe('uploads and downloads stream', function () {
  this.timeout(180_000);
  let server: ServerProcess;
  let dir: string;

  before(async () => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'tickets-streaming-'));
    const port = await freePort();
    server = new ServerProcess(dir, port, {
      NODE_ENV: 'test',
      DATABASE_URL: testDatabase().url,
      SESSION_SECRET: 'streaming-secret-streaming-secret-streaming',
      BASE_URL: `http://localhost:${port}`,
      LOG_LEVEL: 'warn',
      // 5 × 10 MB is over the default 25 MB a message: raised here, for the measurement only.
      ATTACHMENT_MAX_MESSAGE_MB: '60',
    });
    await server.ready();
  });

  after(async () => {
    if (server.child.exitCode === null) {
      server.child.kill('SIGTERM');
      await server.exited;
    }
    rmSync(dir, { recursive: true, force: true });
  });

  /** Posts the new-ticket form with `count` files of `size` bytes, as a visitor; where it went. */
  async function upload(
    count: number,
    size: number,
  ): Promise<{ status: number; location: string; cookie: string }> {
    const jar = new Map<string, string>();
    const form = await server.request('GET', '/tickets/new');
    const cookie = cookiesOf(form, jar);
    const boundary = '----streamingtest';
    const fields = {
      _csrf: csrfOf(form.body),
      name: 'Jo',
      email: 'jo@example.com',
      subject: 'Big files',
      description: 'Five of them',
    };
    const head = Buffer.from(
      Object.entries(fields)
        .map(
          ([n, v]) =>
            `--${boundary}\r\nContent-Disposition: form-data; name="${n}"\r\n\r\n${v}\r\n`,
        )
        .join(''),
    );
    const partHead = (i: number) =>
      Buffer.from(
        `--${boundary}\r\nContent-Disposition: form-data; name="attachments"; filename="big-${i}.pdf"\r\n` +
          'Content-Type: application/pdf\r\n\r\n%PDF-1.4\n',
      );
    const tail = Buffer.from(`\r\n`);
    const end = Buffer.from(`--${boundary}--\r\n`);
    const filler = Buffer.alloc(64 * 1024, 0x20);
    const fillBytes = size - 9;
    let length = head.length + end.length;
    for (let i = 0; i < count; i += 1) length += partHead(i).length + fillBytes + tail.length;

    return new Promise((resolve, reject) => {
      const req = http.request({
        host: '127.0.0.1',
        port: server.port,
        method: 'POST',
        path: '/tickets/new',
        agent: false,
        headers: {
          Host: server.publicHost,
          Cookie: cookie,
          Origin: `http://${server.publicHost}`,
          'Content-Type': `multipart/form-data; boundary=${boundary}`,
          'Content-Length': String(length),
        },
      });
      req.on('error', reject);
      req.on('response', (res) => {
        res.resume();
        res.on('end', () =>
          resolve({
            status: res.statusCode ?? 0,
            location: String(res.headers.location ?? ''),
            cookie: cookiesOf({ status: 0, headers: res.headers, body: '' }, jar),
          }),
        );
      });
      void (async () => {
        const write = (chunk: Buffer) =>
          req.write(chunk) ? Promise.resolve() : new Promise((r) => req.once('drain', r));
        await write(head);
        for (let i = 0; i < count; i += 1) {
          await write(partHead(i));
          for (let sent = 0; sent < fillBytes; sent += filler.length) {
            await write(filler.subarray(0, Math.min(filler.length, fillBytes - sent)));
          }
          await write(tail);
        }
        req.end(end);
      })();
    });
  }

  function download(pathname: string, cookie: string): Promise<number> {
    return new Promise((resolve, reject) => {
      const req = http.get(
        {
          host: '127.0.0.1',
          port: server.port,
          path: pathname,
          agent: false,
          headers: { Host: server.publicHost, Cookie: cookie },
        },
        (res) => {
          let size = 0;
          res.on('data', (c: Buffer) => (size += c.length));
          res.on('end', () => resolve(size));
        },
      );
      req.on('error', reject);
    });
  }

  it('5 × 10 MB in grows the server by less than 50 MB, and a 10 MB file goes out the same way', async () => {
    await aWorkspace('acme');
    const pid = server.child.pid!;
    // Once first, smaller: modules load, and the heap and the database connection's buffers
    // reach their working size, before anything is measured.
    assert.equal((await upload(2, 2 * MB)).status, 303);

    const baseline = rssOf(pid);
    let result = { status: 0, location: '', cookie: '' };
    const peakIn = await peakRss(pid, async () => {
      result = await upload(5, 10 * MB);
    });
    assert.equal(result.status, 303);
    const stored = await rows<{ size: number }>(
      'select size from attachments where size = ? order by position',
      [10 * MB],
    );
    assert.equal(stored.length, 5);
    const grewIn = (peakIn - baseline) / MB;
    assert.ok(grewIn < 50, `the upload grew the server's RSS by ${grewIn.toFixed(1)} MB`);

    // The visitor who opened the ticket reads a file back.
    const page = await server.request('GET', result.location, { cookie: result.cookie });
    const href = /href="([^"]*\/attachments\/[^"]+)"/.exec(page.body)?.[1];
    assert.ok(href, 'the thread links the file');
    const before = rssOf(pid);
    let size = 0;
    const peakOut = await peakRss(pid, async () => {
      size = await download(href, result.cookie);
    });
    assert.equal(size, 10 * MB);
    const grewOut = (peakOut - before) / MB;
    assert.ok(grewOut < 50, `the download grew the server's RSS by ${grewOut.toFixed(1)} MB`);
  });
});
