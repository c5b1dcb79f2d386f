import type Database from 'better-sqlite3';
import type { AttemptError, OutcomeRecord, Priority, Retries } from '@geartrain/core';

const PRIORITY_CODES: Record<Priority, number> = { high: 0, normal: 1, low: 2 };
const PRIORITIES: readonly Priority[] = ['high', 'normal', 'low'];

/** A write to the outcomes table, in the order the server made it. */
export type OutcomeWrite = { readonly keep: OutcomeRecord } | { readonly forget: number };

type Row = [
  number,
  string,
  string,
  string,
  number,
  'completed' | 'failed',
  string | null,
  Buffer,
  number,
  number,
  string,
  number,
  number,
  number,
  string,
];

/**
 * An attempt's error as JSON: its data as base64. `message`, `name` and `stack` came later
 * (rows written before have none): such a row's message is its data's text, as it was.
 */
interface StoredError {
  attempt: number;
  reason: AttemptError['reason'];
  data: string | null;
  time: number;
  message?: string | null;
  name?: string | null;
  stack?: string | null;
}

/** The kept outcomes' table (schema 3): written in the job writes' transaction, read at start. */
export class OutcomeRows {
  private readonly insert: Database.Statement;
  private readonly remove: Database.Statement;
  private readonly select: Database.Statement;

  constructor(db: Database.Database) {
    this.insert = db.prepare(
      `INSERT OR REPLACE INTO geartrain_outcomes VALUES (${Array<string>(15).fill('?').join(', ')})`,
    );
    this.remove = db.prepare(`DELETE FROM geartrain_outcomes WHERE seq = ?`);
    this.select = db.prepare(`SELECT * FROM geartrain_outcomes ORDER BY ended_at, seq`).raw();
  }

  write(writes: readonly OutcomeWrite[]): void {
    for (const w of writes) {
      if ('forget' in w) {
        this.remove.run(w.forget);
        continue;
      }
      const o = w.keep;
      const errors: StoredError[] = o.errors.map((e) => ({
        attempt: e.attempt,
        reason: e.reason,
        data: e.data === null ? null : e.data.toString('base64'),
        time: e.time,
        message: e.message,
        name: e.name,
        stack: e.stack,
      }));
      this.insert.run([
        o.seq,
        o.handle,
        o.functionName,
        o.unique,
        PRIORITY_CODES[o.priority],
        o.state,
        o.reason,
        o.data,
        o.truncated ? 1 : 0,
        o.attempts,
        JSON.stringify(errors),
        o.queuedAt,
        o.startedAt,
        o.endedAt,
        o.retry === null ? '' : JSON.stringify(o.retry),
      ]);
    }
  }

  *list(): Generator<OutcomeRecord> {
    for (const row of this.select.iterate() as IterableIterator<Row>) {
      const [seq, handle, functionName, unique, priority, state, reason, data, truncated] = row;
      const [, , , , , , , , , attempts, errors, queuedAt, startedAt, endedAt, retry] = row;
      yield {
        seq,
        handle,
        functionName,
        unique,
        priority: PRIORITIES[priority] ?? 'normal',
        state,
        reason: reason as OutcomeRecord['reason'],
        data,
        truncated: truncated === 1,
        attempts,
        errors: (JSON.parse(errors) as StoredError[]).map(storedError),
        queuedAt,
        startedAt,
        endedAt,
        retry: retry === '' ? null : (JSON.parse(retry) as Retries),
      };
    }
  }
}

function storedError(e: StoredError): AttemptError {
  const data = e.data === null ? null : Buffer.from(e.data, 'base64');
  return {
    attempt: e.attempt,
    reason: e.reason,
    message: e.message !== undefined ? e.message : data === null ? null : data.toString('utf8'),
    data,
    name: e.name ?? null,
    stack: e.stack ?? null,
    time: e.time,
  };
}
