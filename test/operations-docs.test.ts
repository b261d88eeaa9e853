import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { PrometheusTelemetry } from '../src/metrics/prometheus.js';

const operations = readFileSync(new URL('../docs/operations.md', import.meta.url), 'utf8');
const dashboard = readFileSync(new URL('../docs/grafana-dashboard.json', import.meta.url), 'utf8');

async function confabMetricNames(): Promise<string[]> {
  const metrics = await new PrometheusTelemetry().registry.getMetricsAsJSON();
  return metrics.map((metric) => metric.name).filter((name) => name.startsWith('confab_'));
}

describe('docs/operations.md and the Grafana dashboard', () => {
  it('describe every confab_ metric, and only those that exist', async () => {
    const registered = (await confabMetricNames()).sort();
    const documented = [...operations.matchAll(/^\| `(confab_[a-z_]+)` +\|/gm)]
      .map((match) => match[1]!)
      .sort();
    expect(documented).toEqual(registered);
  });

  it('the dashboard is valid JSON and queries only metrics that exist', async () => {
    const registered = new Set(await confabMetricNames());
    const parsed = JSON.parse(dashboard) as { panels: Array<{ targets: Array<{ expr: string }> }> };
    const queried = new Set<string>();
    for (const panel of parsed.panels)
      for (const target of panel.targets)
        for (const [name] of target.expr.matchAll(/confab_[a-z_]+/g))
          queried.add(name.replace(/_(bucket|count|sum)$/, ''));
    expect(queried.size).toBeGreaterThan(10);
    for (const name of queried) expect(registered, name).toContain(name);
  });
});
