import { FunctionBusyError, FunctionNotFoundError } from '../errors.js';
import type { QueueLimits } from '../types.js';
import { checkName } from './checks.js';
import { FunctionEntry } from './job.js';
import type { Gate } from './gate.js';

/** The server's functions by name, in creation order (`status` lists them so). */
export class FunctionTable {
  readonly byName = new Map<string, FunctionEntry>();

  constructor(
    private readonly handlePrefix: string,
    /** The queue limits a new function starts with (its settings', see settings.ts). */
    private readonly limitsOf: (name: string) => QueueLimits,
    /** The pause and limits kept for a name (they outlive a dropped function's entry). */
    private readonly gateOf: (name: string) => Gate | null,
  ) {}

  get(name: string): FunctionEntry | undefined {
    return this.byName.get(name);
  }

  /** The function's entry, made on first use (a name already known was checked then). */
  entry(name: string): FunctionEntry {
    let fn = this.byName.get(name);
    if (fn === undefined) {
      fn = new FunctionEntry(name, this.handlePrefix);
      fn.limits = this.limitsOf(name);
      fn.gate = this.gateOf(name);
      this.byName.set(name, fn);
    }
    return fn;
  }

  /** `create function`: an empty entry that shows in `status`. */
  create(name: string): void {
    checkName(name, 'function name');
    this.entry(name);
  }

  /**
   * `drop function`: refused while the function has workers or live jobs, so that no accepted
   * job is ever left without its function (gearmand left queued jobs dangling).
   */
  drop(name: string): void {
    const fn = this.byName.get(name);
    if (fn === undefined) throw new FunctionNotFoundError(name);
    if (!fn.idle) throw new FunctionBusyError(name);
    this.byName.delete(name);
  }
}
