// The entry every worker thread of the pool runs (built to dist/thread.js). It loads the
// handler modules, runs the jobs the pool sends with a job context like the in-process
// one, and sends back updates and outcomes, batched per turn.
import { parentPort, workerData } from 'node:worker_threads';
import { pathToFileURL } from 'node:url';
import { getHeapStatistics } from 'node:v8';
import { isBrandedError } from '@geartrain/protocol';
import {
  movable,
  type FromThread,
  type JobMessage,
  type Outcome,
  type ThreadData,
  type ToThread,
  type Update,
} from './messages.js';

type Handler = (job: ThreadJob) => unknown;

const port = parentPort!;
const data = workerData as ThreadData;
const handlers = new Map<string, Handler>();
const running = new Map<number, ThreadJob>();
let updates: Update[] = [];
let outcomes: Outcome[] = [];
let transfer: ArrayBuffer[] = [];
let flushScheduled = false;

function scheduleFlush(): void {
  if (flushScheduled) return;
  flushScheduled = true;
  setImmediate(flush);
}

function flush(): void {
  flushScheduled = false;
  const message: FromThread = {
    type: 'batch',
    updates,
    outcomes,
    heapUsed: outcomes.length > 0 ? getHeapStatistics().used_heap_size : 0,
  };
  const list = transfer;
  updates = [];
  outcomes = [];
  transfer = [];
  port.postMessage(message, list);
}

/** A payload or report as text or a movable ArrayBuffer. */
function wire(value: unknown): ArrayBuffer | string {
  if (typeof value === 'string') return value;
  if (value instanceof Uint8Array) {
    const buffer = movable(value);
    transfer.push(buffer);
    return buffer;
  }
  return JSON.stringify(value) ?? '';
}

/** The job context inside a thread: the in-process one's fields and methods. */
class ThreadJob {
  readonly payload: Buffer;
  private readonly controller = new AbortController();
  private done = false;

  constructor(private readonly message: JobMessage) {
    this.payload = Buffer.from(message.payload);
  }
  get handle(): string {
    return this.message.handle;
  }
  get functionName(): string {
    return this.message.functionName;
  }
  get unique(): string {
    return this.message.unique;
  }
  get attempt(): number {
    return this.message.attempt;
  }
  get signal(): AbortSignal {
    return this.controller.signal;
  }
  text(): string {
    return this.payload.toString('utf8');
  }
  json<T = unknown>(): T {
    return JSON.parse(this.text()) as T;
  }
  status(numerator: number, denominator: number): void {
    if (this.done) return;
    updates.push({ id: this.message.id, kind: 'status', numerator, denominator });
    scheduleFlush();
  }
  data(chunk: Uint8Array | string): void {
    if (this.done) return;
    updates.push({ id: this.message.id, kind: 'data', data: wire(chunk) });
    scheduleFlush();
  }
  warning(chunk: Uint8Array | string): void {
    if (this.done) return;
    updates.push({ id: this.message.id, kind: 'warning', data: wire(chunk) });
    scheduleFlush();
  }
  abort(reason: string): void {
    this.done = true;
    this.controller.abort(new Error(reason));
  }
  settle(ok: boolean, value: unknown): void {
    running.delete(this.message.id);
    if (this.done) return; // aborted: the pool has decided the outcome
    this.done = true;
    const id = this.message.id;
    if (ok) {
      const result = value === undefined || value === null ? null : wire(value);
      outcomes.push({ id, kind: 'complete', data: result });
    } else {
      const error = value as { message?: unknown; stack?: unknown } | null;
      const isObject = error !== null && typeof error === 'object';
      const message = isObject && typeof error.message === 'string' ? error.message : String(value);
      // WorkFail from whichever copy of @geartrain/core the handler imported (its brand:
      // decision 19); the thread does not load core itself.
      const kind = isBrandedError(value, 'WorkFail') ? 'fail' : 'exception';
      if (isObject && typeof error.stack === 'string') {
        outcomes.push({ id, kind, message, name: className(error), stack: error.stack });
      } else outcomes.push({ id, kind, message });
    }
    scheduleFlush();
  }
}

/**
 * The class of a thrown Error, as core's kept outcomes name it (core's
 * `internal/attempt-error.ts`): the name it gives itself, or, for a subclass that left the
 * inherited `Error`, its constructor's.
 */
function className(error: object): string {
  const own = (error as { name?: unknown }).name;
  const name = typeof own === 'string' ? own : 'Error';
  const constructorName = (error.constructor as { name?: unknown } | undefined)?.name;
  return name === 'Error' &&
    error instanceof Error &&
    typeof constructorName === 'string' &&
    constructorName !== ''
    ? constructorName
    : name;
}

function run(message: JobMessage): void {
  const job = new ThreadJob(message);
  running.set(message.id, job);
  const handler = handlers.get(message.functionName);
  if (handler === undefined) {
    job.settle(false, new Error(`no handler for ${message.functionName} in this thread`));
    return;
  }
  let result: unknown;
  try {
    result = handler(job);
  } catch (error) {
    job.settle(false, error);
    return;
  }
  if (result !== null && typeof (result as PromiseLike<unknown>)?.then === 'function') {
    (result as PromiseLike<unknown>).then(
      (value) => job.settle(true, value),
      (error: unknown) => job.settle(false, error),
    );
  } else job.settle(true, result);
}

async function load(): Promise<void> {
  for (const [name, spec] of Object.entries(data.functions)) {
    const url = /^[a-z]+:/i.test(spec.module) ? spec.module : pathToFileURL(spec.module).href;
    const module = (await import(url)) as Record<string, unknown>;
    const exported = spec.export ?? 'default';
    let handler = module[exported];
    // A CommonJS module's `module.exports` function arrives as the default export.
    if (handler === undefined && exported !== 'default') {
      handler = (module['default'] as Record<string, unknown> | undefined)?.[exported];
    }
    if (typeof handler !== 'function') {
      throw new Error(`${spec.module} has no function export ${exported} (for ${name})`);
    }
    handlers.set(name, handler as Handler);
  }
}

port.on('message', (message: ToThread) => {
  if (message.type === 'run') for (const job of message.jobs) run(job);
  else running.get(message.id)?.abort(message.reason);
});

load().then(
  () => port.postMessage({ type: 'ready' } satisfies FromThread),
  (error: unknown) =>
    port.postMessage({
      type: 'fatal',
      message: error instanceof Error ? error.message : String(error),
    } satisfies FromThread),
);
