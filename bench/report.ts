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

/** The results as a Markdown table per scenario. */
export function markdownResults(
  results: readonly ScenarioResult[],
  machine: Machine,
  mode: string,
): string {
  const lines = [
    `Run ${new Date().toISOString()} (${mode}) on ${machine.cores} cores (${machine.cpuModel}), ` +
      `${machine.memoryGiB.toFixed(1)} GiB memory, Node ${machine.node}, ${machine.platform}. ` +
      'Server, generator (and other work on the machine) share the same cores.',
    '',
  ];
  for (const result of results) {
    lines.push(`### ${result.title}`, '');
    lines.push('| metric | value | target | |', '| --- | --- | --- | --- |');
    for (const row of result.rows)
      lines.push(
        `| ${escapeCell(row.metric)} | ${escapeCell(row.value)} | ${escapeCell(row.target ?? '')} | ${verdict(row.met)} |`,
      );
    for (const note of result.notes) lines.push('', note);
    lines.push('');
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

/** Puts fresh results between the markers of a document, keeping everything else. */
export function spliceResults(document: string, results: string): string {
  const start = document.indexOf(RESULTS_START);
  const end = document.indexOf(RESULTS_END);
  if (start < 0 || end < start)
    return `${document.trimEnd()}\n\n${RESULTS_START}\n${results}\n${RESULTS_END}\n`;
  return (
    document.slice(0, start + RESULTS_START.length) + '\n' + results + '\n' + document.slice(end)
  );
}
