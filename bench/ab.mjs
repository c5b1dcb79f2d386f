// Compares two builds of geartrain on one benchmark, run alternately in one session.
// Usage: node bench/ab.mjs BASELINE_CHECKOUT NAME [ROUNDS]
// BASELINE_CHECKOUT is another checkout of the repository, installed and built (for example
// `git worktree add /tmp/base <commit>`, then `npm ci && npm run build` there). Each round
// runs `npm run bench -- NAME`'s script in the baseline, then in this checkout; the output
// is one JSON line per figure with both medians and the median of the round-by-round
// ratios (this build / baseline), the number the project quotes for "no slower".
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { median } from './lib.mjs';

const [baseline, name, roundsArg] = process.argv.slice(2);
if (baseline === undefined || name === undefined) {
  process.stderr.write('usage: node bench/ab.mjs BASELINE_CHECKOUT NAME [ROUNDS]\n');
  process.exit(2);
}
const rounds = Number(roundsArg ?? 3);
const here = fileURLToPath(new URL('..', import.meta.url));

function runOnce(checkout) {
  const out = execFileSync(process.execPath, [join(checkout, 'bench/run.mjs'), name], {
    cwd: checkout,
    encoding: 'utf8',
    maxBuffer: 64 << 20,
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const figures = new Map();
  for (const line of out.split('\n')) {
    if (!line.startsWith('{')) continue;
    const f = JSON.parse(line);
    figures.set(`${f.bench} ${f.metric}${f.peer ? ` peer=${f.peer}` : ''}`, f);
  }
  return figures;
}

const pairs = new Map();
for (let round = 0; round < rounds; round++) {
  const before = runOnce(baseline);
  const after = runOnce(here);
  for (const [key, f] of after) {
    const b = before.get(key);
    if (b === undefined || b.value === 0) continue;
    const entry = pairs.get(key) ?? { unit: f.unit, before: [], after: [], ratios: [] };
    entry.before.push(b.value);
    entry.after.push(f.value);
    entry.ratios.push(f.value / b.value);
    pairs.set(key, entry);
  }
  process.stderr.write(`round ${round + 1} of ${rounds} done\n`);
}
for (const [key, e] of pairs) {
  const line = {
    figure: key,
    unit: e.unit,
    baseline: Number(median(e.before).toPrecision(6)),
    value: Number(median(e.after).toPrecision(6)),
    ratio: Number(median(e.ratios).toPrecision(4)),
  };
  process.stdout.write(`${JSON.stringify(line)}\n`);
}
