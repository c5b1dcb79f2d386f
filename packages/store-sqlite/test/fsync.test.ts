// What each durability mode costs in fsyncs, counted by strace on a child process that
// commits five batches of 200 jobs: power-loss syncs once per batch, never per job;
// process-crash never syncs on the hot path (only checkpoints do, which these batches are
// too small to reach). Needs strace (scripts/install-test-deps.sh): skipped without it
// locally, a failure under CI.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';

const fixture = fileURLToPath(new URL('./fixtures/commit-batches.mjs', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'geartrain-fsync-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const haveStrace = spawnSync('sh', ['-c', 'command -v strace']).status === 0;
const inCi = process.env['CI'] === 'true' || process.env['CI'] === '1';

/** fsync and fdatasync calls the child makes after the store is open. */
function syncsAfterOpen(durability: string, batches: number, jobs: number): number {
  const trace = join(dir, `${durability}.trace`);
  const run = spawnSync(
    'strace',
    [
      '-f',
      '-qq',
      '-e',
      'trace=fsync,fdatasync,write',
      '-o',
      trace,
      process.execPath,
      fixture,
      join(dir, `${durability}.sqlite`),
      durability,
      String(batches),
      String(jobs),
    ],
    { encoding: 'utf8', timeout: 30_000 },
  );
  expect(run.stdout).toContain(`committed ${batches * jobs}`);
  let open = false;
  let syncs = 0;
  for (const line of readFileSync(trace, 'utf8').split('\n')) {
    if (/write\(1, "opened/.test(line)) open = true;
    else if (open && /\b(fsync|fdatasync)\(/.test(line)) syncs++;
  }
  return syncs;
}

describe.skipIf(!haveStrace && !inCi)('fsyncs per durability mode (strace)', () => {
  it('power-loss: one fsync per batch of jobs, not one per job', () => {
    expect(haveStrace, 'strace is missing: run scripts/install-test-deps.sh').toBe(true);
    expect(syncsAfterOpen('power-loss', 5, 200)).toBe(5);
  });

  it('process-crash: no fsync on the hot path', () => {
    expect(haveStrace, 'strace is missing: run scripts/install-test-deps.sh').toBe(true);
    expect(syncsAfterOpen('process-crash', 5, 200)).toBe(0);
  });
});
