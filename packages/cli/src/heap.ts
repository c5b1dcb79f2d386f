import { setFlagsFromString } from 'node:v8';

/** V8 options that size the young generation: one given by the user is theirs to keep. */
const YOUNG_GENERATION_FLAGS = /--(?:(?:max|min)[-_])?semi[-_]space[-_](?:size|growth[-_]factor)/;

/**
 * Keeps V8's young generation at the size it has when serving starts (1-2 MiB
 * semi-spaces) for the `geartrain serve` process, unless the user sized it (decision 30).
 * Under a queue, every job survives its first collections, so V8 grows the young
 * generation to its maximum (16 MiB semi-spaces on Node 20, 64 MiB on 24) and keeps it
 * committed: 32 MiB of RSS or more that hold no job, a third of what 100,000 queued jobs
 * cost. Measured over TCP, the server's CPU per job does not change with the smaller one.
 * The growth factor is the one size option V8 reads again at every growth (the others are
 * read when the heap is made), so it is the one a running process can set. Only the
 * command sets it: the process is ours there, while an application that embeds the
 * library sizes its own heap.
 *
 * Returns whether it was set.
 */
export function keepYoungGenerationSmall(
  execArgv: readonly string[] = process.execArgv,
  nodeOptions: string = process.env.NODE_OPTIONS ?? '',
): boolean {
  if (execArgv.some((flag) => YOUNG_GENERATION_FLAGS.test(flag))) return false;
  if (YOUNG_GENERATION_FLAGS.test(nodeOptions)) return false;
  setFlagsFromString('--semi-space-growth-factor=1');
  return true;
}
