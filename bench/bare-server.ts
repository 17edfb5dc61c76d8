/**
 * The bare baseline of `npm run bench`: Express 5 + one pg.Pool + Nunjucks and nothing else.
 * One route, one indexed query for 25 rows (the heavy requester's tickets, newest activity
 * first, through the index tickets_requester_activity), one template. What the real app's pages
 * are measured against, on the same data and the same PostgreSQL server.
 *
 *   node dist/bench/bare-server.js [--port 3100]
 *
 * At /floor, the same page behind the packages every signed-in page of the app needs
 * (floor-router.ts): the second reference of the report.
 *
 * Row-level security is forced on tickets, so it connects as a role that bypasses it:
 * BARE_DATABASE_URL when set, else the embedded server's superuser from DATA_DIR/postgres.json.
 */
import path from 'node:path';
import { parseArgs } from 'node:util';
import express from 'express';
import nunjucks from 'nunjucks';
import pg from 'pg';
import { projectRoot } from '../src/project-root';
import { BENCH_SLUG, HEAVY_EMAIL } from './bench-data';
import { embeddedSuperuserUrl } from './superuser-url';
import { floorRouter } from './floor-router';

const LIST_SQL = `select number, subject, status, last_activity_at
                    from tickets
                   where workspace_id = $1 and requester_id = $2
                   order by last_activity_at desc, id desc
                   limit 25`;

interface ListRow {
  number: number;
  subject: string;
  status: string;
  last_activity_at: Date;
}

async function benchIds(pool: pg.Pool): Promise<{ workspaceId: string; requesterId: string }> {
  const result = await pool.query<{ workspace_id: string; requester_id: string }>(
    `select w.id as workspace_id, r.id as requester_id
       from workspaces w join requesters r on r.workspace_id = w.id
      where w.slug = $1 and r.email = $2`,
    [BENCH_SLUG, HEAVY_EMAIL],
  );
  const row = result.rows[0];
  if (!row) throw new Error(`no requester ${HEAVY_EMAIL} in workspace ${BENCH_SLUG}: seed first`);
  return { workspaceId: row.workspace_id, requesterId: row.requester_id };
}

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { port: { type: 'string' } }, strict: true });
  const port = Number(values.port ?? process.env.PORT ?? 3100);
  const url =
    process.env.BARE_DATABASE_URL ?? embeddedSuperuserUrl(process.env.DATA_DIR ?? '.data');
  const pool = new pg.Pool({ connectionString: url, max: 10 });
  pool.on('error', (error) => process.stderr.write(`pool: ${error.message}\n`));
  const { workspaceId, requesterId } = await benchIds(pool);

  const app = express();
  app.set('x-powered-by', false);
  const views = path.join(projectRoot, 'bench', 'views');
  app.set('views', views);
  const env = new nunjucks.Environment(new nunjucks.FileSystemLoader(views), { autoescape: true });
  env.express(app);
  const humanTime = new Intl.DateTimeFormat('en-GB', {
    dateStyle: 'medium',
    timeStyle: 'short',
    timeZone: 'UTC',
  });

  app.get('/healthz', (_req, res) => {
    res.type('text').send('ok');
  });
  /** The one page: the requester's 25 newest tickets (a form with the token, when given one). */
  const listPage = async (res: express.Response, requester: string, csrfToken?: string) => {
    const { rows } = await pool.query<ListRow>(LIST_SQL, [workspaceId, requester]);
    res.render('bare-list.njk', {
      workspaceName: 'Bench',
      tickets: rows.map((row) => ({
        reference: `${BENCH_SLUG.toUpperCase()}-${row.number}`,
        subject: row.subject,
        status: row.status,
        isoTime: row.last_activity_at.toISOString(),
        humanTime: `${humanTime.format(row.last_activity_at)} UTC`,
      })),
      nextHref: rows.length === 25 ? '/?after=next' : undefined,
      csrfToken,
    });
  };
  app.get('/', async (_req, res) => {
    await listPage(res, requesterId);
  });
  // Mounted after the baseline's route, which therefore runs none of its middleware.
  app.use('/floor', await floorRouter(pool, requesterId, listPage));

  const server = app.listen(port, '127.0.0.1', () => {
    process.stdout.write(`bare baseline listening on http://127.0.0.1:${port}/\n`);
  });
  const stop = (): void => {
    server.close(() => void pool.end().then(() => process.exit(0)));
    server.closeAllConnections();
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
}

main().catch((error: unknown) => {
  process.stderr.write(
    `bare server failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
  );
  process.exit(1);
});
