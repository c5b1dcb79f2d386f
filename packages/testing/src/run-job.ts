import { WorkFail, type JobContext, type JobHandler, type PayloadInput } from '@geartrain/core';
import { checkOptions, encodeResult, knownKeys, toBuffer } from '@geartrain/core/transport';

/** What a handler reported while it ran, in order. */
export type Report =
  | { readonly type: 'status'; readonly numerator: number; readonly denominator: number }
  | { readonly type: 'data'; readonly data: Buffer }
  | { readonly type: 'warning'; readonly data: Buffer };

/** How a run ended, and everything reported on the way. */
export type JobOutcome =
  | {
      readonly ok: true;
      /** The result as a worker would send it (WORK_COMPLETE's data). */
      readonly result: Buffer;
      /** What the handler returned, as it returned it. */
      readonly value: unknown;
      readonly reports: readonly Report[];
    }
  | {
      readonly ok: false;
      /** What the handler threw or rejected with. */
      readonly error: unknown;
      /** True for a plain failure (`WorkFail`, WORK_FAIL); false for an exception. */
      readonly failed: boolean;
      readonly reports: readonly Report[];
    };

export interface RunJobOptions {
  functionName?: string;
  handle?: string;
  unique?: string;
  attempt?: number;
  /** Aborts the job's signal when this one aborts (as a timeout or cancel would). */
  signal?: AbortSignal;
}

const RUN_JOB_KEYS = knownKeys<RunJobOptions>({
  functionName: true,
  handle: true,
  unique: true,
  attempt: true,
  signal: true,
});

/** A handler's run: await it (or `done`) for the outcome; `abort()` triggers its signal. */
export interface JobRun extends PromiseLike<JobOutcome> {
  readonly done: Promise<JobOutcome>;
  /** Reports so far, in order. */
  readonly reports: readonly Report[];
  /** Aborts the job's signal, as a timeout, cancel or shutdown would. */
  abort(reason?: unknown): void;
}

/**
 * Runs one handler with a recording job context: no server, no clock. The outcome holds the
 * result or the error, and every status, data and warning the handler sent, in order.
 */
export function runJob(
  handler: JobHandler,
  payload?: PayloadInput,
  options: RunJobOptions = {},
): JobRun {
  checkOptions(options, 'runJob options', RUN_JOB_KEYS);
  const reports: Report[] = [];
  const controller = new AbortController();
  const external = options.signal;
  if (external !== undefined) {
    if (external.aborted) controller.abort(external.reason);
    else
      external.addEventListener('abort', () => controller.abort(external.reason), { once: true });
  }
  const body = toBuffer(payload);
  const context: JobContext = {
    handle: options.handle ?? 'H:test:1',
    functionName: options.functionName ?? handler.name ?? 'job',
    unique: options.unique ?? '',
    payload: body,
    attempt: options.attempt ?? 1,
    signal: controller.signal,
    text: () => body.toString('utf8'),
    json: <T>() => JSON.parse(body.toString('utf8')) as T,
    status: (numerator, denominator) =>
      void reports.push({ type: 'status', numerator, denominator }),
    data: (chunk) => void reports.push({ type: 'data', data: toBuffer(chunk) }),
    warning: (chunk) => void reports.push({ type: 'warning', data: toBuffer(chunk) }),
  };
  const done = (async (): Promise<JobOutcome> => {
    try {
      const value = await handler(context);
      return { ok: true, result: encodeResult(value), value, reports };
    } catch (error) {
      return { ok: false, error, failed: error instanceof WorkFail, reports };
    }
  })();
  return {
    done,
    reports,
    abort: (reason?: unknown) => controller.abort(reason),
    then: (onFulfilled, onRejected) => done.then(onFulfilled, onRejected),
  };
}
