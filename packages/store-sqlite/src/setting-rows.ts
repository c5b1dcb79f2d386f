import type Database from 'better-sqlite3';
import type { CatchUp, FunctionControl, Priority, ScheduleRecord } from '@geartrain/core';

/** A write to the schedules table, in the order the server made it. */
export type ScheduleWrite = { readonly save: ScheduleRecord } | { readonly remove: string };

/** The definition of a schedule as its JSON column keeps it (the payload has its own). */
interface StoredDefinition {
  cron: string | null;
  every: number | null;
  timezone: string | null;
  functionName: string;
  priority: Priority;
  unique: string;
  catchUp: CatchUp;
}

/**
 * The functions' pauses and limits and the schedules (schema 4): written in the job writes'
 * transaction (a tick's last time commits with its job), read at start.
 */
export class SettingRows {
  private readonly saveControl: Database.Statement;
  private readonly removeControl: Database.Statement;
  private readonly selectControls: Database.Statement;
  private readonly saveSchedule: Database.Statement;
  private readonly removeSchedule: Database.Statement;
  private readonly selectSchedules: Database.Statement;

  constructor(db: Database.Database) {
    this.saveControl = db.prepare(
      `INSERT OR REPLACE INTO geartrain_controls VALUES (?, ?, ?, ?, ?)`,
    );
    this.removeControl = db.prepare(`DELETE FROM geartrain_controls WHERE function_name = ?`);
    this.selectControls = db
      .prepare(`SELECT * FROM geartrain_controls ORDER BY function_name`)
      .raw();
    this.saveSchedule = db.prepare(
      `INSERT OR REPLACE INTO geartrain_schedules VALUES (?, ?, ?, ?, ?)`,
    );
    this.removeSchedule = db.prepare(`DELETE FROM geartrain_schedules WHERE id = ?`);
    this.selectSchedules = db.prepare(`SELECT * FROM geartrain_schedules ORDER BY id`).raw();
  }

  write(controls: readonly FunctionControl[], schedules: readonly ScheduleWrite[]): void {
    for (const c of controls) {
      if (!c.paused && c.rate === null && c.concurrency === null) {
        this.removeControl.run(c.functionName);
        continue;
      }
      this.saveControl.run(
        c.functionName,
        c.paused ? 1 : 0,
        c.rate?.max ?? null,
        c.rate?.duration ?? null,
        c.concurrency,
      );
    }
    for (const w of schedules) {
      if ('remove' in w) {
        this.removeSchedule.run(w.remove);
        continue;
      }
      const s = w.save;
      const definition: StoredDefinition = {
        cron: s.cron,
        every: s.every,
        timezone: s.timezone,
        functionName: s.functionName,
        priority: s.priority,
        unique: s.unique,
        catchUp: s.catchUp,
      };
      this.saveSchedule.run(s.id, JSON.stringify(definition), s.payload, s.since, s.lastTick);
    }
  }

  *controls(): Generator<FunctionControl> {
    for (const row of this.selectControls.all() as [
      string,
      number,
      number | null,
      number | null,
      number | null,
    ][]) {
      const [functionName, paused, max, duration, concurrency] = row;
      yield {
        functionName,
        paused: paused === 1,
        rate: max === null || duration === null ? null : { max, duration },
        concurrency,
      };
    }
  }

  *schedules(): Generator<ScheduleRecord> {
    for (const row of this.selectSchedules.all() as [
      string,
      string,
      Buffer,
      number,
      number | null,
    ][]) {
      const [id, json, payload, since, lastTick] = row;
      const definition = JSON.parse(json) as StoredDefinition;
      yield { id, ...definition, payload, since, lastTick };
    }
  }
}
