import type { FunctionTimings, LatencyHistogram } from '@geartrain/core';
import { Histogram, type MetricObjectWithValues, type MetricValueWithName } from 'prom-client';

type Values = MetricObjectWithValues<MetricValueWithName<'function' | 'le'>>;

/**
 * A histogram by function whose counts the job server keeps (`JobServer.timings()`), read at
 * scrape time. prom-client's own Histogram counts each observation itself, which would take
 * an event per job; this one is a Histogram to the registry (it is registered, listed and
 * cleared like any other) but answers from the server's buckets. Functions past the label
 * cap are added together under one label value.
 */
export class ServerHistogram extends Histogram<'function'> {
  constructor(
    private readonly metricName: string,
    private readonly metricHelp: string,
    private readonly rows: () => FunctionTimings[],
    private readonly pick: (row: FunctionTimings) => LatencyHistogram,
    private readonly label: (functionName: string) => string,
  ) {
    super({ name: metricName, help: metricHelp, labelNames: ['function'], registers: [] });
  }

  override get(): Promise<Values> {
    return Promise.resolve(this.values());
  }

  /** What the registry formats (it prefers this to `get`). */
  getForPromString(): Promise<Values> {
    return Promise.resolve(this.values());
  }

  private values(): Values {
    // Functions folded into one label add up: same bounds everywhere (one set in the server).
    const merged = new Map<
      string,
      { bounds: readonly number[]; counts: number[]; sum: number; count: number }
    >();
    for (const row of this.rows()) {
      const h = this.pick(row);
      const key = this.label(row.functionName);
      const into = merged.get(key);
      if (into === undefined) {
        merged.set(key, { bounds: h.bounds, counts: [...h.counts], sum: h.sum, count: h.count });
      } else {
        h.counts.forEach((c, i) => (into.counts[i] = (into.counts[i] ?? 0) + c));
        into.sum += h.sum;
        into.count += h.count;
      }
    }
    const values: MetricValueWithName<'function' | 'le'>[] = [];
    for (const [fn, h] of merged) {
      let cumulative = 0;
      h.bounds.forEach((le, i) => {
        cumulative += h.counts[i] ?? 0;
        values.push({
          metricName: `${this.metricName}_bucket`,
          labels: { function: fn, le },
          value: cumulative,
        });
      });
      values.push({
        metricName: `${this.metricName}_bucket`,
        labels: { function: fn, le: '+Inf' },
        value: h.count,
      });
      values.push({ metricName: `${this.metricName}_sum`, labels: { function: fn }, value: h.sum });
      values.push({
        metricName: `${this.metricName}_count`,
        labels: { function: fn },
        value: h.count,
      });
    }
    return {
      name: this.metricName,
      help: this.metricHelp,
      // prom-client's typings declare a numeric enum that its code never uses: the registry
      // writes this string into `# TYPE`, as its own Histogram's is.
      type: 'histogram' as unknown as Values['type'],
      values,
      aggregator: 'sum',
      collect: () => undefined,
    };
  }
}
