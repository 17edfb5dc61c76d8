/**
 * One round of the bench (every selected scenario under load, then the CSV export) and the
 * separate counting pass (the same requests, one at a time, through the counting proxy).
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { streamExport } from './csv-export';
import { STUCK_AFTER_S, stuckTransactions } from './db-watch';
import { alone, ALONE_SECONDS, load, once, type Call, type LoadOptions } from './load';
import type { CountingProxy } from './pg-proxy';
import { rssOf, type Child } from './processes';
import { describeDrain, waitForOutbox } from './outbox-drain';
import type { ExportRun, RoundResult, ScenarioResult } from './report';
import { countRoundTrips, idleRoundTrips } from './round-trips';
import {
  callOf,
  EXPORT_PATH,
  hostOf,
  type Prepared,
  type Scenario,
  type Sessions,
} from './scenarios';

/** Requests per scenario in the counting pass. */
export const COUNTED_REQUESTS = 100;
const IDLE_MS = 3000;

export interface Servers {
  app: Child;
  bare: Child;
}

/** Runs a suite's scenarios; each is prepared once (sessions, tokens) and reused every round. */
export class Suite {
  private readonly prepared = new Map<string, Promise<Prepared>>();

  constructor(
    private readonly selected: Scenario[],
    private readonly withExport: boolean,
    private readonly sessions: Sessions,
    private readonly expectedExportRows: number,
    /** The app's database, watched for stuck transactions after each scenario. */
    private readonly databaseUrl: string,
    private readonly say: (line: string) => void,
  ) {}

  prepare(scenario: Scenario): Promise<Prepared> {
    let prepared = this.prepared.get(scenario.name);
    if (!prepared) {
      prepared = scenario.prepare(this.sessions);
      this.prepared.set(scenario.name, prepared);
    }
    return prepared;
  }

  async round(round: number, servers: Servers, options: LoadOptions): Promise<RoundResult> {
    const results: ScenarioResult[] = [];
    for (const scenario of this.selected) {
      const result = await this.measureOrExplain(scenario, servers, options);
      this.say(`  ${scenario.name}: ${summary(result)}`);
      results.push(result);
    }
    // The mail the write scenarios queued goes out before anything else is measured.
    const mail = await waitForOutbox(this.databaseUrl);
    this.say(`  mail: ${describeDrain(mail)}`);
    let exported: ExportRun | undefined;
    if (this.withExport) {
      exported = await this.export(servers.app, round === 1);
      const exit = servers.app.exit();
      if (exit !== undefined) exported.error = `the app server has exited (${exit})`;
      this.say(
        `  export: ${exported.error ?? `${exported.rows} rows in ${exported.ms.toFixed(0)} ms`}`,
      );
    }
    // A moment for the last requests' work to finish before reading the server's memory.
    await sleep(1000);
    return {
      round,
      scenarios: results,
      export: exported,
      mail,
      rssAfter: rssOf(servers.app.pid),
    };
  }

  private async measure(
    scenario: Scenario,
    servers: Servers,
    options: LoadOptions,
  ): Promise<ScenarioResult> {
    const server = scenario.server === 'app' ? servers.app : servers.bare;
    const result: ScenarioResult = {
      name: scenario.name,
      label: scenario.label,
      server: scenario.server,
      target: scenario.target,
    };
    let prepared: Prepared;
    let call: Call;
    try {
      prepared = await this.prepare(scenario);
      result.request = { method: prepared.method, path: prepared.path, expect: prepared.expect };
      call = callOf(scenario.server, prepared, server.port);
      await probe(server.port, call, prepared.marker, 'before the run');
    } catch (error) {
      result.error = `did not run: ${messageOf(error)}`;
      return result;
    }
    try {
      result.load = await load(server.port, call, options, server.pid);
      const { cpuMs, requests } = result.load;
      if (cpuMs !== undefined && requests > 0) result.cpuMsPerRequest = cpuMs / requests;
      if (scenario.target.kind === 'p50') {
        result.alone = await alone(server.port, call, ALONE_SECONDS);
      }
    } catch (error) {
      result.error = `load failed: ${messageOf(error)}`;
      return result;
    }
    const problems: string[] = [];
    if (scenario.server === 'app') {
      const stuck = await stuckTransactions(this.databaseUrl);
      if (stuck > 0) {
        problems.push(
          `${stuck} app database connections sat idle in a transaction for over ${STUCK_AFTER_S} s at the end of the load (leaked transactions or a pool deadlock)`,
        );
      }
    }
    try {
      await probe(server.port, call, prepared.marker, 'after the run');
    } catch (error) {
      problems.push(messageOf(error));
    }
    if (problems.length) result.error = problems.join('; ');
    return result;
  }

  /** A failing scenario whose server has died says so, not just "connection refused". */
  private async measureOrExplain(
    scenario: Scenario,
    servers: Servers,
    options: LoadOptions,
  ): Promise<ScenarioResult> {
    const result = await this.measure(scenario, servers, options);
    const server = scenario.server === 'app' ? servers.app : servers.bare;
    const exit = server.exit();
    if (exit !== undefined) {
      result.error = `the ${server.name} server has exited (${exit}): ${result.error ?? ''}`;
    }
    return result;
  }

  /** The agent's CSV export of the closed tickets; the first time after a warm-up download. */
  private async export(app: Child, warmUp: boolean): Promise<ExportRun> {
    const expectedRows = this.expectedExportRows;
    try {
      const agent = await this.sessions.agent();
      const headers = agent.headers(EXPORT_PATH, { port: app.port, host: hostOf('app', app.port) });
      if (warmUp) await streamExport(app.port, EXPORT_PATH, headers, app.pid);
      return { ...(await streamExport(app.port, EXPORT_PATH, headers, app.pid)), expectedRows };
    } catch (error) {
      return { status: 0, rows: 0, bytes: 0, ms: 0, expectedRows, error: messageOf(error) };
    }
  }

  /**
   * The counting pass: each scenario's request sent COUNTED_REQUESTS times, one at a time, to
   * servers whose database connections go through the counting proxies.
   */
  async countRoundTrips(
    servers: Servers,
    proxies: { app: CountingProxy; bare: CountingProxy },
    results: RoundResult,
  ): Promise<{ ms: number; request: number; background: number }> {
    const idle = await idleRoundTrips(proxies.app, IDLE_MS);
    for (const scenario of this.selected) {
      const result = results.scenarios.find((r) => r.name === scenario.name);
      if (!result?.load) continue;
      this.say(`  ${scenario.name}`);
      const server = scenario.server === 'app' ? servers.app : servers.bare;
      const proxy = scenario.server === 'app' ? proxies.app : proxies.bare;
      const call = callOf(scenario.server, await this.prepare(scenario), server.port);
      try {
        result.roundTrips = await countRoundTrips(proxy, server.port, call, COUNTED_REQUESTS);
      } catch (error) {
        const exit = server.exit();
        const why = exit === undefined ? '' : `the ${server.name} server has exited (${exit}): `;
        const problem = `round trips not counted: ${why}${messageOf(error)}`;
        result.error = result.error ? `${result.error}; ${problem}` : problem;
      }
    }
    if (results.export) {
      this.say('  export');
      const agent = await this.sessions.agent();
      const headers = agent.headers(EXPORT_PATH, {
        port: servers.app.port,
        host: hostOf('app', servers.app.port),
      });
      proxies.app.reset();
      const counted = await streamExport(servers.app.port, EXPORT_PATH, headers, servers.app.pid)
        .then((result) => result.status === 200)
        .catch(() => false);
      await sleep(300);
      if (counted) results.export.roundTrips = proxies.app.read().request;
    }
    return idle;
  }
}

async function probe(port: number, call: Call, marker: string | undefined, when: string) {
  const answer = await once(port, call);
  if (answer.status !== call.expect) {
    throw new Error(
      `${when}: ${call.method} ${call.path} answered ${answer.status}, expected ${call.expect}`,
    );
  }
  if (marker && !answer.body.includes(marker)) {
    throw new Error(
      `${when}: ${call.method} ${call.path} answered without "${marker}" (session lost?)`,
    );
  }
}

/** One line of progress while the bench runs. */
function summary(result: ScenarioResult): string {
  const load = result.load;
  const numbers = load
    ? `${load.requestsPerSec.toFixed(0)} req/s, p50 ${load.p50} ms, p99 ${load.p99} ms`
    : '';
  return [numbers, result.error].filter(Boolean).join('; ');
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
