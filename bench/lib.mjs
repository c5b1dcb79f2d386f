// Shared helpers for the benchmarks: timing loops and the JSON-line report format
// of DESIGN.md: {"bench":…,"metric":…,"value":…,"unit":…,"peer":…}.

/** Prints one measured figure as a JSON line. `peer` names a compared program. */
export function report(bench, metric, value, unit, peer) {
  const line = { bench, metric, value: Number(value.toPrecision(6)), unit };
  if (peer !== undefined) line.peer = peer;
  process.stdout.write(`${JSON.stringify(line)}\n`);
}

/** The middle value (the upper one of the two middles for an even count). */
export function median(values) {
  return [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];
}

/**
 * Calls `round()` (which does `perRound` operations) until `seconds` have passed, after a
 * warm-up of a quarter of that, and returns operations per second.
 */
export function rate(round, perRound, seconds = 1) {
  const run = (limitNs) => {
    let ops = 0;
    const start = process.hrtime.bigint();
    let elapsed = 0n;
    while (elapsed < limitNs) {
      round();
      ops += perRound;
      elapsed = process.hrtime.bigint() - start;
    }
    return (ops * 1e9) / Number(elapsed);
  };
  run(BigInt(Math.round(seconds * 0.25e9)));
  return run(BigInt(Math.round(seconds * 1e9)));
}
