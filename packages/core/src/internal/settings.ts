import type { Retries } from '../retry.js';
import type { SettingsRecord } from '../settings-types.js';
import type { QueueLimits } from '../types.js';
import { checkName } from './checks.js';
import type { FunctionTable } from './function-table.js';
import type { Gates } from './gates.js';
import type { OutcomeKeeper } from './outcome-keeper.js';
import {
  byName,
  merged,
  retriesOfRecord,
  same,
  type CheckedChanges,
  type SettingsDefaults,
} from './settings-record.js';

/** What a record puts in force on this node. */
export interface SettingsTargets {
  /** Pauses and limits; null where the queue's backend gates the starts (a shared queue). */
  readonly gates: Gates | null;
  readonly kept: OutcomeKeeper;
  readonly functions: () => FunctionTable;
}

/**
 * The functions' settings records on this node, and what each puts in force (issue 30): the
 * one place where a record becomes a gate (pause, rate, concurrency), a retry policy, a
 * retention and queue limits. What the hot paths read stays where they read it (a function
 * entry's `gate`, `limits` and `keeps`, this table's retry policies), set from here.
 *
 * Records outlive a dropped function's entry: they are kept by name, and a new entry of the
 * name takes them up.
 */
export class FunctionSettingsTable {
  private readonly records = new Map<string, SettingsRecord>();
  /** Derived from the records: a function's retry policy, when it has one. */
  private readonly retries = new Map<string, Retries>();

  constructor(
    private readonly targets: SettingsTargets,
    readonly defaults: SettingsDefaults,
  ) {}

  record(functionName: string): SettingsRecord | undefined {
    return this.records.get(functionName);
  }

  /** Every function with a setting of its own, by name. */
  list(): SettingsRecord[] {
    return [...this.records.values()].sort(byName);
  }

  /** The function's retry policy (a job's own comes first), or null: none. */
  retryPolicy(functionName: string): Retries | null {
    return this.retries.get(functionName) ?? null;
  }

  /** The queue limits of a function (a new entry's, see FunctionTable). */
  maxQueue(functionName: string): QueueLimits {
    return this.records.get(functionName)?.maxQueue ?? this.defaults.maxQueue;
  }

  /**
   * Merges checked changes into a function's record and puts the result in force; returns
   * the record (undefined: nothing is set any more) and whether it changed.
   */
  change(
    functionName: string,
    changes: CheckedChanges,
    emit = true,
  ): { record: SettingsRecord | undefined; changed: boolean } {
    checkName(functionName, 'function name');
    const before = this.records.get(functionName);
    const record = merged(functionName, before, changes);
    const changed = !same(before, record);
    if (changed) this.apply(functionName, record, emit);
    return { record, changed };
  }

  /**
   * Puts a function's record in force (undefined: its defaults): whatever it changed of its
   * gate, retry policy, retention and queue limits. `emit`: a change of pause is an event
   * (not when a store's records are taken up at start).
   */
  apply(functionName: string, record: SettingsRecord | undefined, emit: boolean): void {
    const before = this.records.get(functionName);
    if (record === undefined) this.records.delete(functionName);
    else this.records.set(functionName, record);

    const retries = retriesOfRecord(record);
    if (retries === null) this.retries.delete(functionName);
    else this.retries.set(functionName, retries);

    const { gates, kept } = this.targets;
    const fn = this.targets.functions().get(functionName);
    if (!same(before?.keep, record?.keep)) {
      kept.setRetention(functionName, record?.keep ?? null, fn);
    }
    if (fn !== undefined) fn.limits = record?.maxQueue ?? this.defaults.maxQueue;
    if (
      gates !== null &&
      (before?.paused !== record?.paused ||
        !same(before?.rate, record?.rate) ||
        before?.concurrency !== record?.concurrency)
    ) {
      gates.set(
        functionName,
        record?.paused ?? false,
        { rate: record?.rate ?? null, concurrency: record?.concurrency ?? null },
        emit,
      );
    }
  }
}
