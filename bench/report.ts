import os from 'node:os';
import type { ScenarioResult } from './measure.js';

export interface Machine {
  readonly cores: number;
  readonly cpuModel: string;
  readonly memoryGiB: number;
  readonly node: string;
  readonly platform: string;
}

export function describeMachine(): Machine {
  const cpus = os.cpus();
  return {
    cores: cpus.length,
    cpuModel: cpus[0]?.model.trim() ?? 'unknown',
    memoryGiB: os.totalmem() / 2 ** 30,
    node: process.version,
    platform: `${os.type()} ${os.release()} ${os.arch()}`,
  };
}

function verdict(met: boolean | undefined): string {
  if (met === undefined) return '';
  return met ? 'met' : 'MISSED';
}

function escapeCell(text: string): string {
  return text.replace(/\|/g, '\\|');
}

/** Markers around one scenario's recorded table: a run of some scenarios replaces only theirs. */
export const scenarioStart = (name: string) => `<!-- bench:${name}:start -->`;
export const scenarioEnd = (name: string) => `<!-- bench:${name}:end -->`;

/**
 * The results as a Markdown table per scenario, each between its own markers and with
 * the run (time, mode, machine) it came from.
 */
export function markdownResults(
  results: readonly ScenarioResult[],
  machine: Machine,
  mode: string,
): string {
  const run =
    `Run ${new Date().toISOString()} (${mode}) on ${machine.cores} cores (${machine.cpuModel}), ` +
    `${machine.memoryGiB.toFixed(1)} GiB memory, Node ${machine.node}, ${machine.platform}. ` +
    'Server, generator (and other work on the machine) share the same cores.';
  const lines: string[] = [];
  for (const result of results) {
    lines.push(scenarioStart(result.name), `### ${result.title}`, '', run, '');
    lines.push('| metric | value | target | |', '| --- | --- | --- | --- |');
    for (const row of result.rows)
      lines.push(
        `| ${escapeCell(row.metric)} | ${escapeCell(row.value)} | ${escapeCell(row.target ?? '')} | ${verdict(row.met)} |`,
      );
    for (const note of result.notes) lines.push('', note);
    lines.push(scenarioEnd(result.name), '');
  }
  return lines.join('\n');
}

/** The results as a plain-text table for the terminal. */
export function textResults(results: readonly ScenarioResult[]): string {
  const lines: string[] = [];
  for (const result of results) {
    lines.push('', result.title);
    const width = Math.max(...result.rows.map((row) => row.metric.length), 10);
    for (const row of result.rows) {
      const target = row.target ? `  [target ${row.target}: ${verdict(row.met)}]` : '';
      lines.push(`  ${row.metric.padEnd(width)}  ${row.value}${target}`);
    }
  }
  return lines.join('\n');
}

export const RESULTS_START = '<!-- bench:results:start -->';
export const RESULTS_END = '<!-- bench:results:end -->';

/**
 * Puts fresh results between the markers of a document, keeping everything else. A run
 * of every scenario (`complete`) replaces the whole block; a run of some replaces only
 * their sections (by their markers) and appends the ones not recorded yet, so the tables
 * others recorded stay.
 */
export function spliceResults(document: string, results: string, complete = true): string {
  const start = document.indexOf(RESULTS_START);
  const end = document.indexOf(RESULTS_END);
  if (start < 0 || end < start)
    return `${document.trimEnd()}\n\n${RESULTS_START}\n${results}\n${RESULTS_END}\n`;
  let block = document.slice(start + RESULTS_START.length, end).replace(/^\n|\n$/g, '');
  if (complete) block = results;
  else
    for (const [section, name] of results.matchAll(
      /<!-- bench:([\w-]+):start -->[\s\S]*?<!-- bench:\1:end -->/g,
    )) {
      const from = block.indexOf(scenarioStart(name!));
      const to = block.indexOf(scenarioEnd(name!));
      block =
        from >= 0 && to > from
          ? block.slice(0, from) + section + block.slice(to + scenarioEnd(name!).length)
          : `${block.trimEnd()}\n\n${section}`;
    }
  return (
    document.slice(0, start + RESULTS_START.length) + '\n' + block + '\n' + document.slice(end)
  );
}
