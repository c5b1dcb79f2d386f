import type Database from 'better-sqlite3';
import type { JobRecord, Priority } from '@geartrain/core';

const PRIORITY_CODES: Record<Priority, number> = { high: 0, normal: 1, low: 2 };

/**
 * Rows per multi-row INSERT and seqs per DELETE … IN: fewer calls into SQLite per job. A
 * plain job (no unique id, normal priority, at once, no reducer, never started) binds only
 * its seq, handle, function and payload; the rest are the table's defaults.
 */
const INSERT_ROWS = 16;
const PLAIN_ROWS = 64;
const DELETE_ROWS = 64;
const COLUMNS = 10;
const PLAIN_COLUMNS = 4;

/**
 * The jobs table's prepared statements, and what one transaction writes: new rows, new
 * attempts, finished rows, and the highest seq ever added. Called inside a transaction.
 */
export class Rows {
  /** The highest seq ever added (kept in `geartrain_meta`). */
  highest: number;

  private readonly insertOne: Database.Statement;
  private readonly insertMany: Database.Statement;
  private readonly insertPlainMany: Database.Statement;
  private readonly deleteOne: Database.Statement;
  private readonly deleteMany: Database.Statement;
  private readonly deleteRange: Database.Statement;
  private readonly updateOne: Database.Statement;
  private readonly raiseHighest: Database.Statement;
  private readonly insertArgs = new Array<unknown>(INSERT_ROWS * COLUMNS);
  private readonly plainArgs = new Array<unknown>(PLAIN_ROWS * PLAIN_COLUMNS);
  private readonly deleteArgs = new Array<number>(DELETE_ROWS);

  constructor(db: Database.Database, table: string) {
    this.highest = Number(
      db.prepare(`SELECT value FROM geartrain_meta WHERE key = 'highest_seq'`).pluck().get(),
    );
    const row = `(?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`;
    const columns = `(seq, handle, function_name, unique_key, priority, payload, run_at, reducer, attempts, retry)`;
    this.insertOne = db.prepare(`INSERT INTO "${table}" ${columns} VALUES ${row}`);
    this.insertMany = db.prepare(
      `INSERT INTO "${table}" ${columns} VALUES ${Array<string>(INSERT_ROWS).fill(row).join(', ')}`,
    );
    this.insertPlainMany = db.prepare(
      `INSERT INTO "${table}" (seq, handle, function_name, payload) VALUES ${Array<string>(PLAIN_ROWS).fill('(?, ?, ?, ?)').join(', ')}`,
    );
    this.deleteOne = db.prepare(`DELETE FROM "${table}" WHERE seq = ?`);
    this.deleteRange = db.prepare(`DELETE FROM "${table}" WHERE seq BETWEEN ? AND ?`);
    this.deleteMany = db.prepare(
      `DELETE FROM "${table}" WHERE seq IN (${Array<string>(DELETE_ROWS).fill('?').join(', ')})`,
    );
    this.updateOne = db.prepare(`UPDATE "${table}" SET attempts = ?, run_at = ? WHERE seq = ?`);
    this.raiseHighest = db.prepare(
      `UPDATE geartrain_meta SET value = ? WHERE key = 'highest_seq' AND value < ?`,
    );
  }

  /**
   * One transaction's writes. Finished rows go first, so that a full file has their room for
   * the new ones; a record added and removed in the same batch is never written, and an
   * update of a job that ended in the batch is dropped (its row goes).
   */
  write(adds: JobRecord[], updates: JobRecord[], removes: number[]): void {
    const ended = removes.length > 0 && adds.length + updates.length > 0 ? new Set(removes) : null;
    if (removes.length > 0) this.delete(removes);
    if (adds.length > 0) {
      this.insert(ended === null ? adds : adds.filter((r) => !ended.has(r.seq)));
      // Every seq handed out counts, written or not: its handle is never given again.
      let top = this.highest;
      for (const r of adds) if (r.seq > top) top = r.seq;
      this.raiseHighest.run(top, top);
      this.highest = top;
    }
    for (const r of updates) {
      if (ended === null || !ended.has(r.seq)) this.updateOne.run(r.attempts, r.runAt, r.seq);
    }
  }

  private insert(adds: JobRecord[]): void {
    const plain: JobRecord[] = [];
    const full = this.insertArgs;
    let n = 0;
    for (const r of adds) {
      if (isPlain(r)) {
        plain.push(r);
        continue;
      }
      rowArgs(r, full, n * COLUMNS);
      if (++n === INSERT_ROWS) {
        this.insertMany.run(full);
        n = 0;
      }
    }
    const one = new Array<unknown>(COLUMNS);
    for (let k = 0; k < n; k++) {
      for (let c = 0; c < COLUMNS; c++) one[c] = full[k * COLUMNS + c];
      this.insertOne.run(one);
    }
    const args = this.plainArgs;
    let i = 0;
    for (; i + PLAIN_ROWS <= plain.length; i += PLAIN_ROWS) {
      for (let k = 0; k < PLAIN_ROWS; k++) {
        const r = plain[i + k]!;
        const at = k * PLAIN_COLUMNS;
        args[at] = r.seq;
        args[at + 1] = r.id;
        args[at + 2] = r.functionName;
        args[at + 3] = r.payload;
      }
      this.insertPlainMany.run(args);
    }
    for (; i < plain.length; i++) {
      rowArgs(plain[i]!, one, 0);
      this.insertOne.run(one);
    }
  }

  /** Deletes by seq: runs of consecutive seqs (jobs that end in order) as one range each. */
  private delete(removes: number[]): void {
    const seqs = Float64Array.from(removes).sort();
    const singles = this.deleteArgs;
    let n = 0;
    for (let i = 0; i < seqs.length;) {
      let j = i;
      while (j + 1 < seqs.length && seqs[j + 1]! - seqs[j]! <= 1) j++;
      if (j - i >= 2) {
        this.deleteRange.run(seqs[i], seqs[j]);
      } else {
        for (let k = i; k <= j; k++) {
          singles[n++] = seqs[k]!;
          if (n === DELETE_ROWS) {
            this.deleteMany.run(singles);
            n = 0;
          }
        }
      }
      i = j + 1;
    }
    for (let k = 0; k < n; k++) this.deleteOne.run(singles[k]);
  }
}

function isPlain(r: JobRecord): boolean {
  return (
    r.unique === '' &&
    r.priority === 'normal' &&
    r.runAt === 0 &&
    r.reducer === '' &&
    r.attempts === 0 &&
    r.retry === null
  );
}

function rowArgs(r: JobRecord, args: unknown[], at: number): void {
  args[at] = r.seq;
  args[at + 1] = r.id;
  args[at + 2] = r.functionName;
  args[at + 3] = r.unique;
  args[at + 4] = PRIORITY_CODES[r.priority];
  args[at + 5] = r.payload;
  args[at + 6] = r.runAt;
  args[at + 7] = r.reducer;
  args[at + 8] = r.attempts;
  args[at + 9] = r.retry === null ? '' : JSON.stringify(r.retry);
}
