/** How the page writes numbers and times. */

/** A duration in ms as people read it: 850 ms, 12.3 s, 4 min 10 s, 2 h 5 min. */
export function duration(ms: number): string {
  const abs = Math.abs(ms);
  if (abs < 1000) return `${Math.round(abs)} ms`;
  if (abs < 60_000) return `${(abs / 1000).toFixed(abs < 10_000 ? 1 : 0)} s`;
  if (abs < 3_600_000)
    return `${Math.floor(abs / 60_000)} min ${Math.floor((abs % 60_000) / 1000)} s`;
  return `${Math.floor(abs / 3_600_000)} h ${Math.floor((abs % 3_600_000) / 60_000)} min`;
}

/** A time on the server's clock relative to its now: "in 5.0 s", "12 s ago". */
export function relative(time: number, now: number): string {
  const d = time - now;
  if (Math.abs(d) < 1) return 'now';
  return d > 0 ? `in ${duration(d)}` : `${duration(d)} ago`;
}

export const count = (n: number): string => n.toLocaleString('en');

/** Seconds as the chart's latency axis shows them. */
export function seconds(s: number | null): string {
  if (s === null) return '–';
  return s < 1 ? `${(s * 1000).toPrecision(3)} ms` : `${s.toPrecision(3)} s`;
}
