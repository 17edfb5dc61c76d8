/**
 * The bench's verdicts and its printed and saved report. Targets (2 cores, 50 connections,
 * 1,000,000 tickets) come from the performance issue; see README "Benchmarks".
 */
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { ExportResult } from './csv-export';
import { describeDrain, type OutboxDrain } from './outbox-drain';
import type { Dataset } from './dataset';
import { ALONE_SECONDS, type AloneResult, type LoadResult } from './load';
import type { RoundTripCount } from './round-trips';
import { BASELINE_SCENARIO, type Prepared, type TargetRule } from './scenarios';

export const TARGET_CONDITIONS = { cores: 2, connections: 50, tickets: 1_000_000 };
const EXPORT_MAX_MS = 3000;
const EXPORT_MAX_GROWTH = 50 * 1024 * 1024;
const RSS_MAX = 250 * 1024 * 1024;
const RSS_DRIFT = 0.1;
const FLAT_COST_DRIFT = 0.2;
export const FLAT_COST_SCENARIOS = ['portal-list', 'portal-list-deep', 'portal-ticket'];

export interface ScenarioResult {
  name: string;
  label: string;
  server: 'app' | 'bare';
  target: TargetRule;
  request?: Omit<Prepared, 'cookie' | 'body' | 'marker'>;
  load?: LoadResult;
  /** Why the scenario did not run, or what went wrong around it. */
  error?: string;
  roundTrips?: RoundTripCount;
  /** The server process's CPU time per answered request during the load, in milliseconds. */
  cpuMsPerRequest?: number;
  /** For latency targets: the same request from one client alone, after the load. */
  alone?: AloneResult;
}

export interface ExportRun extends ExportResult {
  expectedRows: number;
  roundTrips?: number;
}

export interface RoundResult {
  round: number;
  scenarios: ScenarioResult[];
  export?: ExportRun;
  /** The mail the round queued, and how long the app took to send it (before the export). */
  mail?: OutboxDrain;
  /** The app server's resident memory after the round. */
  rssAfter?: number;
}

export interface Check {
  name: string;
  target: string;
  value: string;
  pass: boolean;
}

export interface BenchReport {
  startedAt: string;
  finishedAt: string;
  machine: { cores: number; cpu: string; node: string; platform: string };
  commit?: string;
  options: {
    connections: number;
    duration: number;
    warmup: number;
    rounds: number;
    only?: string[];
  };
  dataset: Dataset;
  deepPage?: { path: string; depth: number };
  raisedLimits: { variable: string; value: string; why: string }[];
  roundTripMethod: string;
  idle?: { ms: number; request: number; background: number };
  rounds: RoundResult[];
  checks: Check[];
  notes: string[];
}

const mb = (bytes: number | undefined) =>
  bytes === undefined ? 'n/a' : `${(bytes / 1024 / 1024).toFixed(1)} MB`;
const ms = (value: number) => `${value < 10 ? value.toFixed(1) : value.toFixed(0)} ms`;
const pct = (ratio: number) => `${(ratio * 100).toFixed(0)}%`;

export function describeTarget(target: TargetRule): string {
  switch (target.kind) {
    case 'relative': {
      const parts = [`≥ ${pct(target.minRatio)} of base req/s`];
      if (target.maxP99Ratio) parts.push(`p99 ≤ ${target.maxP99Ratio}× base`);
      if (target.zeroErrors) parts.push('0 errors');
      return parts.join(', ');
    }
    case 'p50':
      return `p50 < ${target.maxMs} ms`;
    case 'none':
      return '';
  }
}

/** Connection errors, timeouts and answers with another status than expected. */
export function errorsOf(load: LoadResult): number {
  return load.errors + load.unexpected;
}

export function verdict(result: ScenarioResult, base: LoadResult | undefined): boolean | undefined {
  const { target, load } = result;
  if (target.kind === 'none') return undefined;
  if (!load || result.error) return false;
  if (target.kind === 'p50') return load.p50 < target.maxMs;
  if (!base) return false;
  if (load.requestsPerSec < target.minRatio * base.requestsPerSec) return false;
  if (target.maxP99Ratio && load.p99 > target.maxP99Ratio * base.p99) return false;
  if (target.zeroErrors && errorsOf(load) > 0) return false;
  return true;
}

export function baselineOf(round: RoundResult): LoadResult | undefined {
  return round.scenarios.find((s) => s.name === BASELINE_SCENARIO)?.load;
}

/** Every PASS/MISS of the run: scenarios of round 1, export, memory, flat cost. */
export function evaluate(report: BenchReport, otherRuns: BenchReport[]): Check[] {
  const checks: Check[] = [];
  const first = report.rounds[0];
  if (!first) return checks;
  const base = baselineOf(first);
  for (const result of first.scenarios) {
    const pass = verdict(result, base);
    if (pass === undefined) continue;
    const load = result.load;
    const value = load
      ? `${load.requestsPerSec.toFixed(0)} req/s${base ? ` (${pct(load.requestsPerSec / base.requestsPerSec)})` : ''}, p50 ${ms(load.p50)}, p99 ${ms(load.p99)}, ${errorsOf(load)} errors`
      : (result.error ?? 'did not run');
    checks.push({ name: result.name, target: describeTarget(result.target), value, pass });
  }
  const exported = first.export;
  if (exported) {
    const growth = (exported.rssPeak ?? 0) - (exported.rssBefore ?? 0);
    checks.push({
      name: 'export',
      target: `${exported.expectedRows} rows in < ${EXPORT_MAX_MS / 1000} s, growth < ${mb(EXPORT_MAX_GROWTH)}`,
      value: exported.error ?? `${exported.rows} rows in ${ms(exported.ms)}, growth ${mb(growth)}`,
      pass:
        exported.error === undefined &&
        exported.status === 200 &&
        exported.rows === exported.expectedRows &&
        exported.ms < EXPORT_MAX_MS &&
        exported.rssBefore !== undefined &&
        growth < EXPORT_MAX_GROWTH,
    });
  }
  const rss1 = first.rssAfter;
  checks.push({
    name: 'rss-after-bench',
    target: `< ${mb(RSS_MAX)}`,
    value: mb(rss1),
    pass: rss1 !== undefined && rss1 < RSS_MAX,
  });
  const third = report.rounds[2];
  if (third && rss1 !== undefined && third.rssAfter !== undefined) {
    const drift = third.rssAfter / rss1 - 1;
    checks.push({
      name: 'rss-after-2-more-rounds',
      target: `within ${pct(RSS_DRIFT)} of round 1`,
      value: `${mb(third.rssAfter)} (${drift >= 0 ? '+' : ''}${(drift * 100).toFixed(1)}%)`,
      pass: Math.abs(drift) <= RSS_DRIFT,
    });
  }
  for (const other of otherRuns) checks.push(...flatCost(report, other));
  return checks;
}

function p50Of(report: BenchReport, name: string): number | undefined {
  return report.rounds[0]?.scenarios.find((s) => s.name === name)?.load?.p50;
}

/** p50 of the list and ticket pages with more tickets within 20% of p50 with fewer. */
function flatCost(report: BenchReport, other: BenchReport): Check[] {
  const [small, large] =
    report.dataset.tickets < other.dataset.tickets ? [report, other] : [other, report];
  const checks: Check[] = [];
  for (const name of FLAT_COST_SCENARIOS) {
    const p50Small = p50Of(small, name);
    const p50Large = p50Of(large, name);
    if (p50Small === undefined || p50Large === undefined) continue;
    checks.push({
      name: `flat-cost ${name}`,
      target: `p50 at ${large.dataset.tickets} ≤ ${pct(1 + FLAT_COST_DRIFT)} of p50 at ${small.dataset.tickets}`,
      value: `${ms(p50Large)} vs ${ms(p50Small)} (the run at ${other.dataset.tickets} of ${other.startedAt})`,
      pass: p50Large <= (1 + FLAT_COST_DRIFT) * p50Small,
    });
  }
  return checks;
}

function pad(text: string, width: number, right = false): string {
  return right ? text.padStart(width) : text.padEnd(width);
}

/** The report as printed: the table of round 1, then everything else. */
export function formatReport(report: BenchReport): string {
  const lines: string[] = [];
  const first = report.rounds[0];
  const base = first ? baselineOf(first) : undefined;
  const { machine, dataset, options } = report;
  lines.push(
    `npm run bench — ${report.startedAt}${report.commit ? `, commit ${report.commit}` : ''}`,
    `${machine.cores} cores (${machine.cpu}), Node ${machine.node}, ${dataset.tickets.toLocaleString('en-GB')} tickets ` +
      `(${dataset.benchTickets.toLocaleString('en-GB')} in the bench workspace), ${options.connections} connections, ` +
      `${options.warmup} s warm-up + ${options.duration} s per scenario`,
    '',
  );
  const header = [
    pad('Scenario', 52),
    pad('req/s', 8, true),
    pad('p50', 9, true),
    pad('p99', 9, true),
    pad('errors', 7, true),
    pad('non-2xx', 8, true),
    pad('DB RT', 6, true),
    pad('CPU/req', 8, true),
    pad('× base', 7, true),
    '  ',
    pad('target', 44),
    'verdict',
  ].join(' ');
  lines.push(header, '-'.repeat(header.length));
  for (const result of first?.scenarios ?? []) {
    const load = result.load;
    const pass = verdict(result, base);
    const cells = load
      ? [
          pad(load.requestsPerSec.toFixed(0), 8, true),
          pad(ms(load.p50), 9, true),
          pad(ms(load.p99), 9, true),
          pad(String(errorsOf(load)), 7, true),
          pad(String(load.non2xx), 8, true),
        ]
      : [pad('—', 8, true), pad('', 9), pad('', 9), pad('', 7), pad('', 8)];
    lines.push(
      [
        pad(result.label.slice(0, 52), 52),
        ...cells,
        pad(result.roundTrips ? result.roundTrips.perRequest.toFixed(2) : '—', 6, true),
        pad(result.cpuMsPerRequest ? `${result.cpuMsPerRequest.toFixed(2)} ms` : '—', 8, true),
        pad(load && base ? (load.requestsPerSec / base.requestsPerSec).toFixed(2) : '—', 7, true),
        '  ',
        pad(describeTarget(result.target), 44),
        pass === undefined ? '' : pass ? 'PASS' : 'MISS',
      ].join(' '),
    );
    if (result.error) lines.push(`    ${result.name}: ${result.error}`);
  }
  lines.push(
    '',
    'errors: connection errors, timeouts and answers other than the expected status (200 for pages and',
    'the sign-in request, 303 for the new ticket and reply POSTs). DB RT: database round trips per request.',
    "CPU/req: the server process's CPU time (all threads, from /proc) per answered request under load.",
  );

  const known = first?.scenarios.find((s) => s.name === 'portal-signin-known')?.load;
  const unknown = first?.scenarios.find((s) => s.name === 'portal-signin-unknown')?.load;
  if (known && unknown) {
    lines.push(
      '',
      `Sign-in request p50: known address ${ms(known.p50)}, unknown address ${ms(unknown.p50)} ` +
        `(p99 ${ms(known.p99)} / ${ms(unknown.p99)}).`,
    );
  }
  const latencyTargets = (first?.scenarios ?? []).filter((s) => s.alone);
  if (latencyTargets.length) {
    lines.push(
      '',
      `One request at a time (1 connection, ${ALONE_SECONDS} s after the load; the targets above are judged under load):`,
      ...latencyTargets.map(
        (s) =>
          `  ${s.label}: p50 ${ms(s.alone?.p50 ?? 0)}, p99 ${ms(s.alone?.p99 ?? 0)} (${s.alone?.requests ?? 0} requests)`,
      ),
    );
  }
  if (report.deepPage) {
    lines.push(`Deep list page: ${report.deepPage.depth} pages in (${report.deepPage.path}).`);
  }

  const exported = first?.export;
  if (exported?.error) {
    lines.push('', `CSV export (status=closed) failed: ${exported.error}`);
  } else if (exported) {
    lines.push(
      '',
      `CSV export (status=closed): ${exported.rows.toLocaleString('en-GB')} rows ` +
        `(expected ${exported.expectedRows.toLocaleString('en-GB')}), ${mb(exported.bytes)}, ${ms(exported.ms)}, ` +
        `status ${exported.status}; server RSS ${mb(exported.rssBefore)} before, peak ${mb(exported.rssPeak)} ` +
        `(growth ${mb((exported.rssPeak ?? 0) - (exported.rssBefore ?? 0))})` +
        (exported.roundTrips !== undefined ? `; ${exported.roundTrips} DB round trips` : '') +
        '.',
    );
  }

  lines.push('', 'Mail the write scenarios queued, sent by the app before the round went on:');
  for (const round of report.rounds) {
    lines.push(
      `  round ${round.round}: ${round.mail ? describeDrain(round.mail) : 'not measured'}`,
    );
  }
  lines.push('', 'App server resident memory after each round (scenarios + mail + export):');
  for (const round of report.rounds) lines.push(`  round ${round.round}: ${mb(round.rssAfter)}`);
  if (report.rounds.length < 3) lines.push('  (--rounds 3 checks that it stays flat)');
  if (report.rounds.length > 1) lines.push('', ...formatRounds(report.rounds));

  lines.push('', `Round trips: ${report.roundTripMethod}`);
  if (report.idle) {
    lines.push(
      `  Idle check: in ${report.idle.ms / 1000} s with no requests the app made ${report.idle.background} ` +
        `background round trips (excluded) and ${report.idle.request} others.`,
    );
  }
  lines.push('', 'Rate limits raised through configuration for this run:');
  for (const limit of report.raisedLimits) {
    lines.push(`  ${limit.variable}=${limit.value}: ${limit.why}`);
  }

  lines.push('', 'Targets:');
  for (const check of report.checks) {
    lines.push(
      `  ${check.pass ? 'PASS' : 'MISS'}  ${pad(check.name, 28)} ${check.value}  [target: ${check.target}]`,
    );
  }
  const { cores, connections, tickets } = TARGET_CONDITIONS;
  if (
    machine.cores !== cores ||
    options.connections !== connections ||
    dataset.tickets !== tickets
  ) {
    lines.push(
      `  (the targets are set for ${cores} cores, ${connections} connections and ${tickets.toLocaleString('en-GB')} tickets; ` +
        `this run had ${machine.cores}, ${options.connections} and ${dataset.tickets.toLocaleString('en-GB')})`,
    );
  }
  for (const note of report.notes) lines.push(`Note: ${note}`);
  return lines.join('\n');
}

function formatRounds(rounds: RoundResult[]): string[] {
  const lines = [
    `req/s per round: ${pad('', 36)}${rounds.map((r) => pad(`round ${r.round}`, 9, true)).join(' ')}`,
  ];
  for (const scenario of rounds[0]?.scenarios ?? []) {
    const values = rounds.map((round) => {
      const load = round.scenarios.find((s) => s.name === scenario.name)?.load;
      return pad(load ? load.requestsPerSec.toFixed(0) : '—', 9, true);
    });
    lines.push(`  ${pad(scenario.name, 50)}${values.join(' ')}`);
  }
  return lines;
}

/** Saved runs at other ticket counts: bench-results/latest-<tickets>.json. */
export function otherSizes(dir: string, tickets: number): BenchReport[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir)
    .filter((file) => /^latest-\d+\.json$/.test(file) && file !== `latest-${tickets}.json`)
    .map((file) => JSON.parse(readFileSync(path.join(dir, file), 'utf8')) as BenchReport);
}

/** Writes bench-results/<time>-<tickets>.json and bench-results/latest-<tickets>.json. */
export function saveReport(dir: string, report: BenchReport): string {
  mkdirSync(dir, { recursive: true });
  const stamp = report.startedAt.replace(/[:.]/g, '-');
  const file = path.join(dir, `${stamp}-${report.dataset.tickets}.json`);
  const json = `${JSON.stringify(report, null, 2)}\n`;
  writeFileSync(file, json);
  writeFileSync(path.join(dir, `latest-${report.dataset.tickets}.json`), json);
  return file;
}
