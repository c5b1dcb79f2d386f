import { GeartrainError } from '@geartrain/protocol';
import type { FailReason } from './types.js';

export { GeartrainError };

/** An argument the API cannot accept (a NUL byte in a name, a `runAt` on a foreground job, …). */
export class InvalidArgumentError extends GeartrainError<'INVALID_ARGUMENT'> {
  constructor(message: string) {
    super('INVALID_ARGUMENT', message);
  }
}

/** A unique id longer than the server accepts (gearmand: 64 bytes; wire `ARGUMENT_TOO_LARGE`). */
export class UniqueTooLargeError extends GeartrainError<'UNIQUE_TOO_LARGE'> {
  constructor(readonly limit: number) {
    super('UNIQUE_TOO_LARGE', `unique id longer than ${limit} bytes`);
  }
}

/** The function's queue is at its `maxQueue` limit (wire `QUEUE_ERROR` "Job queue is full"). */
export class QueueFullError extends GeartrainError<'QUEUE_FULL'> {
  constructor(readonly functionName: string) {
    super('QUEUE_FULL', `job queue of ${functionName} is full`);
  }
}

/** The job store failed to persist a background job; the job was not accepted. */
export class StoreError extends GeartrainError<'STORE_FAILED'> {
  constructor(message: string, cause: unknown) {
    super('STORE_FAILED', message, { cause });
  }
}

/**
 * The shared queue could not be reached, or failed to take a submission (wire
 * `QUEUE_ERROR`). The submission was not accepted; nothing acknowledged is lost.
 */
export class QueueUnavailableError extends GeartrainError<'QUEUE_UNAVAILABLE'> {
  constructor(message: string, cause: unknown) {
    super('QUEUE_UNAVAILABLE', message, { cause });
  }
}

/**
 * A foreground job for a function that no worker of this node can do, while workers of
 * other nodes of its shared queue can (wire `WORKERS_ELSEWHERE`). Sent by the releases whose
 * shared queue kept foreground jobs on their node; no longer raised since foreground jobs
 * are the cluster's (decision 36), and kept so that a client of such a server reads it.
 */
export class WorkersElsewhereError extends GeartrainError<'WORKERS_ELSEWHERE'> {
  constructor(readonly functionName: string) {
    super(
      'WORKERS_ELSEWHERE',
      `no worker of this node can do ${functionName}, only workers of other nodes: a ` +
        'foreground job runs on the node that took it (submit it in the background, or to ' +
        'a node with a worker for it)',
    );
  }
}

/** The server is closing or closed and accepts no new work. */
export class ServerClosedError extends GeartrainError<'SERVER_CLOSED'> {
  constructor() {
    super('SERVER_CLOSED', 'the job server is closed');
  }
}

/** A work result for a job the connection does not hold (wire `JOB_NOT_FOUND`). */
export class JobNotFoundError extends GeartrainError<'JOB_NOT_FOUND'> {
  constructor(
    readonly handle: string,
    message = `no job ${handle} is held by this connection`,
  ) {
    super('JOB_NOT_FOUND', message);
  }
}

/** `dropFunction` on a function that does not exist. */
export class FunctionNotFoundError extends GeartrainError<'FUNCTION_NOT_FOUND'> {
  constructor(readonly functionName: string) {
    super('FUNCTION_NOT_FOUND', `function ${functionName} not found`);
  }
}

/** `dropFunction` on a function that still has workers, running or queued jobs. */
export class FunctionBusyError extends GeartrainError<'FUNCTION_BUSY'> {
  constructor(readonly functionName: string) {
    super(
      'FUNCTION_BUSY',
      `function ${functionName} still has registered workers, running or queued jobs`,
    );
  }
}

/** The submission was abandoned through its AbortSignal; the job itself may go on. */
export class SubmissionAbortedError extends GeartrainError<'ABORTED'> {
  constructor(cause: unknown) {
    super('ABORTED', 'the submission was aborted', { cause });
  }
}

/**
 * The job failed: the worker sent a failure, or the server ended it (timeout, cancel,
 * retries exhausted, shutdown). `reason` says which.
 */
export class JobFailedError extends GeartrainError<'JOB_FAILED'> {
  constructor(
    readonly handle: string,
    readonly reason: FailReason,
  ) {
    super('JOB_FAILED', `job ${handle} failed (${reason})`);
  }
}

/** The job's handler threw: `data` is what the worker sent with WORK_EXCEPTION. */
export class JobExceptionError extends GeartrainError<'JOB_EXCEPTION'> {
  constructor(
    readonly handle: string,
    readonly data: Buffer,
  ) {
    super('JOB_EXCEPTION', data.toString('utf8') || `job ${handle} raised an exception`);
  }
}

/**
 * Throw this from a handler to fail the job plainly (WORK_FAIL), without an exception
 * message. Any other thrown value becomes a WORK_EXCEPTION carrying its message.
 */
export class WorkFail extends GeartrainError<'WORK_FAIL'> {
  constructor(message = 'the job failed') {
    super('WORK_FAIL', message);
  }
}

/** A call on a connection, client or worker that was closed. */
export class ConnectionClosedError extends GeartrainError<'CONNECTION_CLOSED'> {
  constructor() {
    super('CONNECTION_CLOSED', 'the connection is closed');
  }
}
