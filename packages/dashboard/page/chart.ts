/** The throughput and latency chart: uPlot, bundled into the page at build time. */
import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';
import type { RatePoint } from '../src/index.js';
import { seconds } from './format.js';

const css = (name: string) =>
  getComputedStyle(document.documentElement).getPropertyValue(name).trim();

/** Columns for uPlot: time (s), jobs per second submitted / completed / failed, run and wait p95. */
function columns(history: readonly RatePoint[]): uPlot.AlignedData {
  const time: number[] = [];
  const rate = (n: number, i: number) => {
    const previous = history[i - 1] ?? history[i + 1];
    const span = previous === undefined ? 1 : Math.abs(history[i]!.time - previous.time) / 1000;
    return span > 0 ? n / span : n;
  };
  const submitted: number[] = [];
  const completed: number[] = [];
  const failed: number[] = [];
  const run: (number | null)[] = [];
  const wait: (number | null)[] = [];
  history.forEach((p, i) => {
    time.push(p.time / 1000);
    submitted.push(rate(p.submitted, i));
    completed.push(rate(p.completed, i));
    failed.push(rate(p.failed, i));
    run.push(p.run.mean);
    wait.push(p.wait.mean);
  });
  return [time, submitted, completed, failed, run, wait];
}

export class Chart {
  private readonly plot: uPlot;

  constructor(parent: HTMLElement) {
    const axis = {
      stroke: css('--muted'),
      grid: { stroke: css('--grid') },
      ticks: { stroke: css('--grid') },
    };
    this.plot = new uPlot(
      {
        width: Math.max(240, parent.clientWidth),
        height: 200,
        scales: {
          x: { time: true },
          jobs: { range: (_u, _min, max) => [0, Math.max(1, max)] },
          s: {},
        },
        axes: [
          axis,
          { ...axis, scale: 'jobs', label: 'jobs/s', size: 50 },
          {
            ...axis,
            scale: 's',
            side: 1,
            label: 'mean latency',
            size: 60,
            values: (_u, v) => v.map((s) => seconds(s)),
            grid: { show: false },
          },
        ],
        series: [
          {},
          { label: 'submitted/s', scale: 'jobs', stroke: css('--c1'), width: 1.5 },
          { label: 'completed/s', scale: 'jobs', stroke: css('--c2'), width: 1.5 },
          { label: 'failed/s', scale: 'jobs', stroke: css('--c3'), width: 1.5 },
          {
            label: 'run',
            scale: 's',
            stroke: css('--c4'),
            dash: [4, 3],
            value: (_u, v) => seconds(v),
          },
          {
            label: 'wait',
            scale: 's',
            stroke: css('--c5'),
            dash: [1, 3],
            value: (_u, v) => seconds(v),
          },
        ],
      },
      [[], [], [], [], [], []],
      parent,
    );
    new ResizeObserver(() =>
      this.plot.setSize({ width: Math.max(240, parent.clientWidth), height: 200 }),
    ).observe(parent);
  }

  update(history: readonly RatePoint[]): void {
    this.plot.setData(columns(history));
  }
}
