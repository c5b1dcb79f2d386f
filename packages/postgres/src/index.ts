// @geartrain/postgres: the shared queue of geartrain on PostgreSQL. Each node is an ordinary
// job server given `queue: postgresQueue(...)`; its background jobs wait in the database,
// run by the workers of any node.
export { type QueueStats } from './attempts.js';
export { postgresQueue, PostgresQueue } from './backend.js';
export { PostgresQueueError, QueueClosedError, type OpenFailure } from './errors.js';
export type { PostgresQueueOptions } from './options.js';
export { SCHEMA_VERSION } from './schema.js';
