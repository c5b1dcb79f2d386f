import type { FunctionControl, FunctionLimits } from '../types.js';
import { checkName } from './checks.js';
import type { ServerContext } from './context.js';
import { Gate, checkLimits, controlOf } from './gate.js';
import type { FunctionEntry } from './job.js';
import { timerDelay } from './timer-delay.js';

/**
 * Pauses and limits by function name (decision 23). A function without any has no gate, so
 * the common path pays one null check (`FunctionEntry.gate`). Gates outlive a dropped
 * function's entry: they are kept by name.
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

  /** Pauses or resumes; returns the function's control, to be stored. */
  setPaused(functionName: string, paused: boolean): FunctionControl {
    checkName(functionName, 'function name');
    const gate = this.gateFor(functionName);
    const changed = gate.paused !== paused;
    gate.paused = paused;
    this.settle(gate);
    if (changed && this.ctx.events.observed) {
      this.ctx.emit({ type: paused ? 'paused' : 'resumed', functionName });
    }
    return controlOf(gate);
  }

  /** Sets the rate and concurrency limits (null: none); returns the control, to be stored. */
  setLimits(functionName: string, limits: FunctionLimits | null): FunctionControl {
    checkName(functionName, 'function name');
    const checked = checkLimits(limits ?? {});
    const gate = this.gateFor(functionName);
    gate.setLimits(checked);
    this.settle(gate);
    return controlOf(gate);
  }

  /** A stored control, taken up at start (before the jobs are replayed). */
  restore(control: FunctionControl): void {
    const gate = this.gateFor(control.functionName);
    gate.paused = control.paused;
    gate.setLimits(control);
    this.settle(gate);
  }

  /** The functions that are paused or limited, by name. */
  list(): FunctionControl[] {
    return [...this.byName.values()]
      .map(controlOf)
      .sort((a, b) => (a.functionName < b.functionName ? -1 : 1));
  }

  control(functionName: string): FunctionControl {
    const gate = this.byName.get(functionName);
    return gate === undefined
      ? { functionName, paused: false, rate: null, concurrency: null }
      : controlOf(gate);
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
