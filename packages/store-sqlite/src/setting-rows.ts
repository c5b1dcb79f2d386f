import type Database from 'better-sqlite3';
import type { CatchUp, Priority, ScheduleRecord, SettingsRecord } from '@geartrain/core';

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
 * A record's settings as its JSON column keeps them (its name has a column of its own).
 * JSON has no Infinity, which a retention uses for "all" and "no age limit": it is written as
 * the string "Infinity" (no setting is a string that could be that).
 */
export function settingsJson(settings: object): string {
  return JSON.stringify(settings, (_key, value: unknown) =>
    value === Infinity ? 'Infinity' : value,
  );
}

function parseSettings(json: string): Record<string, unknown> {
  return JSON.parse(json, (_key, value: unknown) =>
    value === 'Infinity' ? Infinity : value,
  ) as Record<string, unknown>;
}

/**
 * The functions' settings records (schema 5) and the schedules (schema 4): written in the job
 * writes' transaction (a tick's last time commits with its job), read at start.
 */
export class SettingRows {
  private readonly saveSettings: Database.Statement;
  private readonly removeSettings: Database.Statement;
  private readonly selectSettings: Database.Statement;
  private readonly saveSchedule: Database.Statement;
  private readonly removeSchedule: Database.Statement;
  private readonly selectSchedules: Database.Statement;

  constructor(db: Database.Database) {
    this.saveSettings = db.prepare(`INSERT OR REPLACE INTO geartrain_settings VALUES (?, ?)`);
    this.removeSettings = db.prepare(`DELETE FROM geartrain_settings WHERE function_name = ?`);
    this.selectSettings = db
      .prepare(`SELECT * FROM geartrain_settings ORDER BY function_name`)
      .raw();
    this.saveSchedule = db.prepare(
      `INSERT OR REPLACE INTO geartrain_schedules VALUES (?, ?, ?, ?, ?)`,
    );
    this.removeSchedule = db.prepare(`DELETE FROM geartrain_schedules WHERE id = ?`);
    this.selectSchedules = db.prepare(`SELECT * FROM geartrain_schedules ORDER BY id`).raw();
  }

  write(settings: readonly SettingsRecord[], schedules: readonly ScheduleWrite[]): void {
    for (const record of settings) {
      const { functionName, ...rest } = record;
      // A record with no setting but its name removes the function's.
      if (Object.values(rest).every((value) => value === undefined)) {
        this.removeSettings.run(functionName);
      } else this.saveSettings.run(functionName, settingsJson(rest));
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

  *settings(): Generator<SettingsRecord> {
    for (const [functionName, json] of this.selectSettings.all() as [string, string][]) {
      const settings = parseSettings(json);
      if (Object.keys(settings).length > 0) yield { functionName, ...settings };
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
