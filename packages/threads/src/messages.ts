/**
 * The messages between the pool (main thread) and its worker threads. Every message is a
 * plain object with a `type`; payloads and results travel as ArrayBuffers in the transfer
 * list, so they are moved, not copied. Jobs and results are batched: one message carries
 * every job dispatched, or every result produced, in one turn.
 */

/** A function a thread serves: a module (path or file URL, ESM or CJS) and an export. */
export interface HandlerSpec {
  readonly module: string;
  /** The export to call; default `default`. */
  readonly export?: string;
}

/** One job handed to a thread. */
export interface JobMessage {
  readonly id: number;
  readonly functionName: string;
  readonly handle: string;
  readonly unique: string;
  readonly attempt: number;
  /** The payload, moved into the thread. */
  readonly payload: ArrayBuffer;
}

/** Main → thread. */
export type ToThread =
  | { readonly type: 'run'; readonly jobs: readonly JobMessage[] }
  | { readonly type: 'abort'; readonly id: number; readonly reason: string };

/**
 * A job's outcome. `data` is a moved ArrayBuffer or a string (UTF-8 on the wire). A failure
 * carries the message of what the handler threw and, when it was an Error, its class name
 * and stack, which the pool gives the error it rejects with (kept in the job's outcome).
 */
export type Outcome =
  | { readonly id: number; readonly kind: 'complete'; readonly data: ArrayBuffer | string | null }
  | {
      readonly id: number;
      readonly kind: 'fail' | 'exception';
      readonly message: string;
      readonly name?: string;
      readonly stack?: string;
    };

/** A report a handler sends while it runs. */
export type Update =
  | {
      readonly id: number;
      readonly kind: 'status';
      readonly numerator: number;
      readonly denominator: number;
    }
  | { readonly id: number; readonly kind: 'data' | 'warning'; readonly data: ArrayBuffer | string };

/** Thread → main. */
export type FromThread =
  | { readonly type: 'ready' }
  /** A handler module could not be loaded: the thread cannot serve. */
  | { readonly type: 'fatal'; readonly message: string }
  | {
      readonly type: 'batch';
      /** Updates, in the order the handlers sent them; before the outcomes of the batch. */
      readonly updates: readonly Update[];
      readonly outcomes: readonly Outcome[];
      /** The thread's V8 heap in use after these jobs, in bytes. */
      readonly heapUsed: number;
    };

/** What a thread is started with (its `workerData`). */
export interface ThreadData {
  readonly functions: Readonly<Record<string, HandlerSpec>>;
  /** The pool's `workerData` option, for handlers (`workerData.user` in the thread). */
  readonly user: unknown;
}

/**
 * A Buffer or view as an ArrayBuffer that can be moved: its own ArrayBuffer when it spans
 * all of it (large Buffers), else a copy (small Buffers share Node's pool).
 */
export function movable(view: Uint8Array): ArrayBuffer {
  const buffer = view.buffer;
  if (
    buffer instanceof ArrayBuffer &&
    view.byteOffset === 0 &&
    view.byteLength === buffer.byteLength
  ) {
    return buffer;
  }
  return copyOf(view);
}

/** The bytes of a view in an ArrayBuffer of their own. */
export function copyOf(view: Uint8Array): ArrayBuffer {
  const copy = new ArrayBuffer(view.byteLength);
  new Uint8Array(copy).set(view);
  return copy;
}
