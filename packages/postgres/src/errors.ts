import { GeartrainError } from '@geartrain/core';

/**
 * Why the queue could not be opened on a database:
 *
 * - `NEWER_SCHEMA`: a newer release of geartrain migrated the schema; this one cannot use it.
 * - `OLD_SERVER`: PostgreSQL older than 14.
 * - `CANNOT_CONNECT`: the database could not be reached, or refused the session.
 */
export type OpenFailure = 'NEWER_SCHEMA' | 'OLD_SERVER' | 'CANNOT_CONNECT';

/** The shared queue could not be opened (code `QUEUE_OPEN_FAILED`, with a `reason`). */
export class PostgresQueueError extends GeartrainError<'QUEUE_OPEN_FAILED'> {
  constructor(
    readonly reason: OpenFailure,
    message: string,
    cause?: unknown,
  ) {
    super('QUEUE_OPEN_FAILED', message, cause === undefined ? undefined : { cause });
  }
}

/** The backend is closed (or not open yet): no statement is sent. */
export class QueueClosedError extends GeartrainError<'QUEUE_CLOSED'> {
  constructor() {
    super('QUEUE_CLOSED', 'the PostgreSQL queue is not open');
  }
}
