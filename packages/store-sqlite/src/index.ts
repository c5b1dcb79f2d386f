export { SqliteJobStore } from './sqlite-store.js';
export type { Durability, SqliteJobStoreOptions } from './options.js';
export { StoreOpenError, type StoreOpenErrorReason } from './errors.js';
export { importGearmandQueue, type ImportOptions, type ImportResult } from './import.js';
export { SCHEMA_VERSION } from './schema.js';
