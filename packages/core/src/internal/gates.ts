import type { FunctionLimits } from '../types.js';
import type { ServerContext } from './context.js';
import { Gate } from './gate.js';
import type { FunctionEntry } from './job.js';
import { timerDelay } from './timer-delay.js';

/**
 * Pauses and limits by function name (decision 23), as the functions' settings records say
 * (settings.ts). A function without any has no gate, so the common path pays one null check
 * (`FunctionEntry.gate`). Gates outlive a dropped function's entry: they are kept by name.
 */
export class Gates {
  private readonly byName = new Map<string, Gate>();

  constructor(
    private readonly ctx: ServerContext,
    private readonly entryOf: (name: string) => FunctionEntry | undefined,
    /** Jobs of the function may start now: its sleeping workers are woken. */
    private readonly opened: (fn: FunctionEntry) => void,
  ) {}

  /** The gate kept for a name (a new function's entry takes it), or null. */
  of(name: string): Gate | null {
    return this.byName.get(name) ?? null;
  }

  /**
   * Puts a function's pause and limits in force (derived from its settings record: see
   * settings.ts). Its sleeping workers are woken when the gate lets more start; `emit` says
   * whether a change of pause is an event (not when a store's records are taken up).
   */
  set(functionName: string, paused: boolean, limits: FunctionLimits, emit: boolean): void {
    const gate = this.gateFor(functionName);
    const changed = gate.paused !== paused;
    gate.paused = paused;
    gate.setLimits(limits);
    this.settle(gate);
    if (emit && changed && this.ctx.events.observed) {
      this.ctx.emit({ type: paused ? 'paused' : 'resumed', functionName });
    }
  }

  /**
   * How many of a gated function's jobs may start now. When its rate holds them back, one
   * timer (per function, not per job) wakes its sleepers when the window lets the next one
   * start.
   */
  room(fn: FunctionEntry): number {
    const gate = fn.gate!;
    const now = this.ctx.now();
    const room = gate.room(now, fn.running);
    if (room > 0) return room;
    const at = gate.rateOpensAt(now, fn.running);
    if (at !== undefined && at < gate.timerAt && !this.ctx.closing) {
      gate.stopTimer();
      gate.timerAt = at;
      gate.timer = this.ctx.scheduler.schedule(
        () => {
          gate.timer = null;
          gate.timerAt = Infinity;
          const entry = this.entryOf(gate.functionName);
          if (entry !== undefined && entry.gate === gate) this.opened(entry);
        },
        timerDelay(at, now),
      );
      if (this.ctx.events.observed) {
        this.ctx.emit({ type: 'limited', functionName: fn.name, until: at });
      }
    }
    return 0;
  }

  stopTimers(): void {
    for (const gate of this.byName.values()) gate.stopTimer();
  }

  private gateFor(name: string): Gate {
    let gate = this.byName.get(name);
    if (gate === undefined) {
      gate = new Gate(name);
      this.byName.set(name, gate);
      const fn = this.entryOf(name);
      if (fn !== undefined) fn.gate = gate;
    }
    return gate;
  }

  /** After a gate changed: dropped when it holds nothing back; its workers woken if it let go. */
  private settle(gate: Gate): void {
    const fn = this.entryOf(gate.functionName);
    if (gate.open) {
      gate.stopTimer();
      this.byName.delete(gate.functionName);
      if (fn !== undefined) fn.gate = null;
    }
    if (fn !== undefined && !this.ctx.closing) this.opened(fn);
  }
}
