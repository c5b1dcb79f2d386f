import fc from 'fast-check';
import { VirtualTimeScheduler } from 'rxjs';
import { describe, expect, it } from 'vitest';
import type { Connection } from '../src/transport.js';
import { assigned, runClockTo, server, settled } from './helpers.js';

/**
 * Model-based test of retries, kept outcomes and dead letters: random sequences of
 * submissions, grabs, completions, failures, exceptions, lost workers, time passing, runs by
 * hand and discards against a server whose function retries (ATTEMPTS in all, with a
 * back-off) and keeps every outcome. After every step:
 *
 * - no job is lost: each submitted handle is live or has a kept outcome (or was discarded);
 * - no job is held by two workers at once;
 * - no attempt beyond the limit; a failed outcome made its ATTEMPTS attempts, each failure
 *   listed; a completed outcome is a job whose last attempt completed;
 * - a dead letter run by hand starts again at attempt 1 under its handle.
 *
 * It runs on the local queue and on a shared queue (vitest.config.ts, core-shared): each
 * step's answers are awaited, and the queue has answered what a step set off before the
 * invariants are read.
 */

const ATTEMPTS = 3;
const WORKERS = 3;

type Step =
  | { kind: 'submit'; unique: boolean }
  | { kind: 'grab'; worker: number }
  | { kind: 'end'; worker: number; how: 'complete' | 'fail' | 'exception' }
  | { kind: 'lose'; worker: number }
  | { kind: 'advance'; ms: number }
  | { kind: 'retry'; pick: number }
  | { kind: 'discard'; pick: number };

// Weighted so that jobs go through all their attempts often (grab, end, let time pass).
const step: fc.Arbitrary<Step> = fc.oneof(
  {
    weight: 1,
    arbitrary: fc.record({ kind: fc.constant('submit' as const), unique: fc.boolean() }),
  },
  {
    weight: 4,
    arbitrary: fc.record({ kind: fc.constant('grab' as const), worker: fc.nat(WORKERS - 1) }),
  },
  {
    weight: 4,
    arbitrary: fc.record({
      kind: fc.constant('end' as const),
      worker: fc.nat(WORKERS - 1),
      how: fc.constantFrom('complete' as const, 'fail' as const, 'exception' as const),
    }),
  },
  {
    weight: 1,
    arbitrary: fc.record({ kind: fc.constant('lose' as const), worker: fc.nat(WORKERS - 1) }),
  },
  {
    weight: 3,
    arbitrary: fc.record({
      kind: fc.constant('advance' as const),
      ms: fc.integer({ min: 1, max: 400 }),
    }),
  },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('retry' as const), pick: fc.nat() }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('discard' as const), pick: fc.nat() }) },
);

describe('retries and outcomes, model-based', () => {
  it('loses no job, never runs one twice at once, keeps attempts within the limit', async () => {
    let deadLetters = 0;
    await fc.assert(
      fc.asyncProperty(
        fc.array(step, { minLength: 40, maxLength: 100 }),
        fc.constantFrom('fixed' as const, 'exponential' as const),
        async (steps, type) => {
          const clock = new VirtualTimeScheduler();
          const s = server({
            scheduler: clock,
            keep: { completed: { count: 1e6 }, failed: { count: 1e6 } },
            random: () => 0.5,
          });
          await s.setJobPolicy('f', {
            attempts: ATTEMPTS,
            backoff: { type, delay: 50, max: 200, jitter: 0.5 },
          });
          const client = s.connect();
          const workers: Connection[] = [];
          const held: { handle: string; attempt: number }[][] = [];
          const connect = (i: number) => {
            workers[i] = s.connect();
            workers[i].canDo('f');
            held[i] = [];
          };
          for (let i = 0; i < WORKERS; i++) connect(i);
          const submitted = new Set<string>();
          const discarded = new Set<string>();
          /** Per handle: what ended its last attempt ('fail' for any failure). */
          const lastEnd = new Map<string, 'complete' | 'fail'>();
          let seq = 0;

          for (const st of steps) {
            switch (st.kind) {
              case 'submit': {
                const outcome = await client.submit({
                  functionName: 'f',
                  payload: `p${++seq}`,
                  background: true,
                  unique: st.unique ? `u${seq % 3}` : '',
                });
                submitted.add(outcome.handle);
                break;
              }
              case 'grab': {
                const a = await assigned(workers[st.worker]!);
                if (a !== undefined) {
                  expect(a.attempt).toBeLessThanOrEqual(ATTEMPTS);
                  held[st.worker]!.push({ handle: a.handle, attempt: a.attempt });
                }
                break;
              }
              case 'end': {
                const job = held[st.worker]!.shift();
                if (job === undefined) break;
                const w = workers[st.worker]!;
                if (st.how === 'complete') w.workComplete(job.handle, Buffer.from('r'));
                else if (st.how === 'fail') w.workFail(job.handle);
                else w.workException(job.handle, Buffer.from('e'));
                lastEnd.set(job.handle, st.how === 'complete' ? 'complete' : 'fail');
                break;
              }
              case 'lose': {
                for (const job of held[st.worker]!) lastEnd.set(job.handle, 'fail');
                workers[st.worker]!.close();
                connect(st.worker);
                break;
              }
              case 'advance':
                await runClockTo(clock, clock.frame + st.ms);
                break;
              case 'retry': {
                const failed = await s.outcomes({ state: 'failed' });
                if (failed.length === 0) break;
                const handle = failed[st.pick % failed.length]!.handle;
                await s.retry(handle);
                // Queued again under its handle, or, when a live job holds its unique id now,
                // kept as it was (that job is this work).
                const again = (await s.status(handle)).known;
                expect(again !== ((await s.outcome(handle)) !== undefined)).toBe(true);
                break;
              }
              case 'discard': {
                const kept = await s.outcomes();
                if (kept.length === 0) break;
                const handle = kept[st.pick % kept.length]!.handle;
                expect(await s.discard(handle)).toBe(true);
                discarded.add(handle);
                break;
              }
            }

            // Invariants, after every step (and what it set off).
            await settled();
            const holders = new Map<string, number>();
            for (const list of held) {
              for (const job of list) holders.set(job.handle, (holders.get(job.handle) ?? 0) + 1);
            }
            for (const [handle, count] of holders) {
              expect(count, `${handle} held twice`).toBe(1);
            }
            for (const handle of submitted) {
              if (discarded.has(handle)) continue;
              const live = (await s.status(handle)).known;
              const outcome = await s.outcome(handle);
              expect(live || outcome !== undefined, `${handle} lost`).toBe(true);
              if (live || outcome === undefined) continue;
              expect(outcome.attempts).toBeLessThanOrEqual(ATTEMPTS);
              if (outcome.state === 'failed') {
                deadLetters++;
                expect(outcome.attempts).toBe(ATTEMPTS);
                expect(outcome.errors).toHaveLength(ATTEMPTS);
                expect(lastEnd.get(handle)).toBe('fail');
              } else {
                expect(lastEnd.get(handle)).toBe('complete');
              }
            }
          }
        },
      ),
      { numRuns: 100 },
    );
    // The runs did reach dead letters (else the invariants on them were never checked).
    expect(deadLetters).toBeGreaterThan(0);
  });
});
