import type { Retries } from '../retry.js';
import type { SettingsRecord } from '../settings-types.js';
import type { QueueLimits } from '../types.js';
import { checkName } from './checks.js';
import type { FunctionTable } from './function-table.js';
import type { Gates } from './gates.js';
import type { OutcomeKeeper } from './outcome-keeper.js';
import type { StoreWrites } from './store-writes.js';
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
  /** Where the records are kept (the local queue's store, if any). */
  readonly writes: StoreWrites;
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
    /**
     * Settings given at start (the `jobPolicies` option): in force from now on, and merged
     * over what the store kept once it is read (`restore`).
     */
    private readonly initial: ReadonlyMap<string, CheckedChanges>,
  ) {
    for (const [name, changes] of initial) this.change(name, changes, false);
  }

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
   * Changes a function's settings: in force at once (a pause holds its jobs from the next
   * assignment on), and stored. Returns the record and, while the store has not confirmed
   * it, the Promise of its write (a refusal is a StoreError).
   */
  configure(
    functionName: string,
    changes: CheckedChanges,
  ): { record: SettingsRecord | undefined; written: Promise<void> | undefined } {
    const { record, changed } = this.change(functionName, changes);
    const written = changed
      ? this.targets.writes.saveSettings(record ?? { functionName })
      : undefined;
    return { record, written };
  }

  /**
   * Takes up the records a store kept (at start, before its jobs), then the settings given at
   * start over them: each that changes a kept record, or that the store lacks, is stored.
   */
  restore(stored: Iterable<SettingsRecord>): void {
    const restored = new Set<string>();
    for (const record of stored) {
      restored.add(record.functionName);
      this.apply(record.functionName, record, false);
    }
    for (const [name, changes] of this.initial) {
      const { record, changed } = this.change(name, changes, false);
      if (changed || !restored.has(name)) {
        this.targets.writes.keepSettings(record ?? { functionName: name });
      }
    }
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
