import { JobExceptionError, JobFailedError } from '../errors.js';
import type { JobUpdate } from '../types.js';
import type { JobListener } from './job.js';

// A `runAll` task set: one promise for the set, one small listener per job (client.ts).

/** The results of a `runAll` task set, gathered into one promise. */
export class TaskSet {
  readonly results: Buffer[];
  private remaining: number;
  private done = false;

  constructor(
    count: number,
    private readonly resolve: (results: Buffer[]) => void,
    private readonly reject: (error: Error) => void,
  ) {
    this.results = new Array<Buffer>(count);
    this.remaining = count;
  }

  complete(index: number, data: Buffer): void {
    this.results[index] = data;
    if (--this.remaining === 0 && !this.done) {
      this.done = true;
      this.resolve(this.results);
    }
  }

  fail(error: unknown): void {
    if (this.done) return;
    this.done = true;
    this.reject(error instanceof Error ? error : new Error(String(error)));
  }
}

/** One job of a task set: a listener that reports to its set. */
export class TaskListener implements JobListener {
  constructor(
    private readonly set: TaskSet,
    private readonly index: number,
    readonly exceptions: boolean,
  ) {}

  /** A result: the handle is not needed (nor made) for it. */
  completed(update: { readonly data: Buffer }): void {
    this.set.complete(this.index, update.data);
  }

  update(handle: string, update: JobUpdate): void {
    if (update.type === 'complete') this.set.complete(this.index, update.data);
    else if (update.type === 'fail') this.set.fail(new JobFailedError(handle, update.reason));
    else if (update.type === 'exception') this.set.fail(new JobExceptionError(handle, update.data));
  }

  lost(_handle: string, error: Error): void {
    this.set.fail(error);
  }
}
