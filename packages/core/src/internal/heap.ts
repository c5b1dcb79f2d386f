import { getHeapSpaceStatistics, setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import type { LoggerLike } from '../worker-types.js';

/** V8's gc extension: with `execution: 'async'` it returns a promise of the collection. */
type GcFunction = (options: {
  type: 'major';
  execution: 'async';
  flavor: 'last-resort';
}) => Promise<void> | undefined;

let gcFunction: GcFunction | null | undefined;

/**
 * V8's `gc`, without asking the user for `--expose-gc`: the flag makes V8 install `gc` in
 * the contexts created while it is set, so one new context is made with it on and the flag
 * is turned off again at once (other contexts, the application's and vm's, never see it).
 * Null where that is not possible (a runtime without the gc extension).
 */
function gcOf(): GcFunction | null {
  if (gcFunction !== undefined) return gcFunction;
  const exposed = (globalThis as { gc?: unknown }).gc;
  if (typeof exposed === 'function') return (gcFunction = exposed as GcFunction);
  try {
    setFlagsFromString('--expose-gc');
    const found: unknown = runInNewContext('typeof gc === "function" ? gc : null');
    gcFunction = typeof found === 'function' ? (found as GcFunction) : null;
  } catch {
    gcFunction = null;
  } finally {
    setFlagsFromString('--no-expose-gc');
  }
  return gcFunction;
}

/**
 * One full collection, run as a task of its own (`async`: off this call's stack, which a
 * synchronous collection with options scans conservatively, keeping what it points at), of
 * the 'last-resort' flavor where V8 has it (Node 22+: it also compacts and shrinks the
 * young generation, so the pages go back at once). Node 20's V8 ignores the flavor and
 * runs a regular full collection. Resolves when it is done (at once without a gc).
 */
async function collectHeap(): Promise<void> {
  const gc = gcOf();
  if (gc === null) return;
  await gc({ type: 'major', execution: 'async', flavor: 'last-resort' });
}

/** The young generation's committed bytes (two semi-spaces; 1 MiB idle, 32 MiB grown). */
function youngGenerationBytes(): number {
  return (
    getHeapSpaceStatistics().find((space) => space.space_name === 'new_space')?.space_size ?? 0
  );
}

/** A young generation above this has grown under load and not shrunk back. */
const GROWN_YOUNG = 8 << 20;

/**
 * V8 shrinks a grown young generation in a full collection only while its allocation rate,
 * measured over the last 5 s, is low: so right after a burst it does not, and 6 s later it
 * does (seen on Node 20, whose collection has no 'last-resort' flavor).
 */
const SECOND_COLLECTION_AFTER = 6_000;

/**
 * Gives the JavaScript heap's free memory back to the system (decision 28): a full
 * collection at once; and, where it left the young generation grown (Node 20), another
 * one some seconds later, which shrinks it. Each is logged at info. The wait is a Node
 * timer that does not hold the process open (not the server's scheduler: it is about V8's
 * clock, and a closed server must not keep an application alive for it).
 */
export function releaseHeap(logger: LoggerLike | undefined): void {
  const collect = (then: () => void) => {
    const before = process.memoryUsage();
    collectHeap().then(
      () => {
        const after = process.memoryUsage();
        const mib = (bytes: number) => Math.round(bytes / 2 ** 20);
        logger?.info(
          { heapUsed: after.heapUsed, heapTotal: after.heapTotal },
          `heap collected: ${mib(before.heapUsed)} → ${mib(after.heapUsed)} MiB used ` +
            `of ${mib(before.heapTotal)} → ${mib(after.heapTotal)} MiB`,
        );
        then();
      },
      (error: unknown) => logger?.warn({ err: error }, 'heap collection failed'),
    );
  };
  collect(() => {
    if (youngGenerationBytes() <= GROWN_YOUNG) return;
    setTimeout(() => collect(() => undefined), SECOND_COLLECTION_AFTER).unref();
  });
}
