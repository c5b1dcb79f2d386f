import type Database from 'better-sqlite3';
import type { JobRecord, Priority, Retries } from '@geartrain/core';

const PRIORITIES: readonly Priority[] = ['high', 'normal', 'low'];
/** Rows per query. */
const CHUNK = 10_000;

interface Chunk {
  count: number;
  last: number;
  seqs: string;
  handles: string;
  functions: string;
  lengths: string;
  payloads: Buffer | null;
  // The columns most jobs leave at their default, as `seq SOH value` entries joined by NUL
  // for the rows that do not (null when none does).
  uniques: string | null;
  priorities: string | null;
  runAts: string | null;
  reducers: string | null;
  attempts: string | null;
  retries: string | null;
}

/** `seq SOH value` entries of the rows whose column is not its default, joined by NUL. */
function sparse(column: string, byDefault: string): string {
  return `group_concat(CASE WHEN ${column} <> ${byDefault} THEN seq || char(1) || ${column} END, char(0))`;
}

/**
 * A statement that reads the records of `table` after a seq, CHUNK at a time, as one row of
 * aggregates: seqs, handles and function names joined in seq order (by NUL, which none may
 * hold), the payloads as one blob with their lengths, and the columns most jobs leave at
 * their defaults only where they do not. better-sqlite3 makes a JavaScript value per column
 * per row at a cost of about a microsecond each (a Buffer per payload is most of it); this
 * makes a dozen per ten thousand rows and splits them in JavaScript, which reads a million
 * records in about a third of the time.
 *
 * The aggregates step through the rows of the subquery together, in its order (seq). An
 * ORDER BY inside each aggregate would promise that order but sorts once per aggregate; the
 * order is checked on the seqs instead (see readRecords).
 */
export function prepareChunkRead(db: Database.Database, table: string): Database.Statement {
  return db.prepare(`
    SELECT count(*) AS count, max(seq) AS last,
      group_concat(seq, ',') AS seqs,
      group_concat(handle, char(0)) AS handles,
      group_concat(function_name, char(0)) AS functions,
      group_concat(octet_length(payload), ',') AS lengths,
      CAST(group_concat(payload, '') AS BLOB) AS payloads,
      ${sparse('unique_key', "''")} AS uniques,
      ${sparse('priority', '1')} AS priorities,
      ${sparse('run_at', '0')} AS runAts,
      ${sparse('reducer', "''")} AS reducers,
      ${sparse('attempts', '0')} AS attempts,
      ${sparse('retry', "''")} AS retries
    FROM (SELECT * FROM "${table}" WHERE seq > ? ORDER BY seq LIMIT ${CHUNK})`);
}

/** The values of a sparse column by seq, or null when every row has the default. */
function byseq(entries: string | null): Map<number, string> | null {
  if (entries === null) return null;
  const values = new Map<number, string>();
  for (const entry of entries.split('\0')) {
    const at = entry.indexOf('\x01');
    values.set(Number(entry.slice(0, at)), entry.slice(at + 1));
  }
  return values;
}

/** A job's own retry policy, kept as JSON (written by `Rows`, so trusted to be one). */
function retryOf(json: string | undefined): Retries | null {
  return json === undefined ? null : (JSON.parse(json) as Retries);
}

/** Every record of the table, in seq order, a chunk in memory at a time. */
export function* readRecords(read: Database.Statement): Generator<JobRecord> {
  let after = 0;
  for (;;) {
    const chunk = read.get(after) as Chunk;
    if (chunk.count === 0) return;
    const seqs = chunk.seqs.split(',');
    const handles = chunk.handles.split('\0');
    const functions = chunk.functions.split('\0');
    const lengths = chunk.lengths.split(',');
    const payloads = chunk.payloads ?? Buffer.alloc(0);
    const uniques = byseq(chunk.uniques);
    const priorities = byseq(chunk.priorities);
    const runAts = byseq(chunk.runAts);
    const reducers = byseq(chunk.reducers);
    const attempts = byseq(chunk.attempts);
    const retries = byseq(chunk.retries);
    let offset = 0;
    let previous = after;
    for (let i = 0; i < chunk.count; i++) {
      const seq = Number(seqs[i]);
      if (!(seq > previous)) {
        throw new Error(`the store's rows came out of seq order (${seq} after ${previous})`);
      }
      previous = seq;
      const length = Number(lengths[i]);
      const priority = priorities?.get(seq);
      yield {
        seq,
        id: handles[i]!,
        functionName: functions[i]!,
        unique: uniques?.get(seq) ?? '',
        priority: priority === undefined ? 'normal' : (PRIORITIES[Number(priority)] ?? 'normal'),
        // A view of the chunk: the server copies what it keeps (small views are not kept).
        payload: payloads.subarray(offset, offset + length),
        runAt: Number(runAts?.get(seq) ?? 0),
        reducer: reducers?.get(seq) ?? '',
        attempts: Number(attempts?.get(seq) ?? 0),
        retry: retryOf(retries?.get(seq)),
      };
      offset += length;
    }
    after = chunk.last;
  }
}
