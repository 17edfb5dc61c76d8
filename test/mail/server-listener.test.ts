import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import nodemailer from 'nodemailer';
import { freePort } from '../../src/db/embedded';
import { testDatabase } from '../helpers/database';
import { aWorkspace, rows } from '../helpers/fixtures';
import { ServerProcess, until } from '../helpers/server-process';

const DOMAIN = 'in.example.test';

/**
 * The listener as an operator runs it: `INBOUND_SMTP_PORT` makes the server itself take mail
 * (the module is loaded only then), and SIGTERM stops it with the rest, exit 0.
 */
describe('the server’s own SMTP listener', () => {
  it('starts with INBOUND_SMTP_PORT, opens a ticket from a mail, and stops on SIGTERM', async function () {
    this.timeout(120_000);
    await aWorkspace('acme');
    const dir = mkdtempSync(path.join(os.tmpdir(), 'tickets-listener-'));
    const smtpPort = await freePort();
    const server = new ServerProcess(dir, await freePort(), {
      NODE_ENV: 'test',
      DATABASE_URL: testDatabase().url,
      SESSION_SECRET: 'listener-secret-listener-secret-listener',
      INBOUND_DOMAIN: DOMAIN,
      INBOUND_SMTP_PORT: String(smtpPort),
      INBOUND_SMTP_HOST: '127.0.0.1',
      LOG_LEVEL: 'info',
    });
    try {
      await server.ready();
      assert.match(server.output, /receiving mail by SMTP/);
      const sender = nodemailer.createTransport({
        host: '127.0.0.1',
        port: smtpPort,
        secure: false,
        ignoreTLS: true,
      });
      await sender.sendMail({
        from: 'Kim <kim@example.com>',
        to: `acme@${DOMAIN}`,
        subject: 'Printer jammed',
        text: 'Paper everywhere.',
      });
      sender.close();
      const tickets = await rows<{ subject: string }>('select subject from tickets');
      assert.deepEqual(
        tickets.map((t) => t.subject),
        ['Printer jammed'],
      );

      server.child.kill('SIGTERM');
      const exit = await server.exited;
      assert.deepEqual(exit, { code: 0, signal: null }, server.output);
      // Nothing listens on the port any more.
      await until(
        () => 'the SMTP port is free again',
        async () => {
          const probe = nodemailer.createTransport({ host: '127.0.0.1', port: smtpPort });
          const open = await probe.verify().then(
            () => true,
            () => false,
          );
          probe.close();
          return !open;
        },
        10_000,
      );
    } finally {
      if (server.child.exitCode === null) server.child.kill('SIGKILL');
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
