export { SqliteJobStore, type Durability, type SqliteJobStoreOptions } from './sqlite-store.js';
export { StoreOpenError, type StoreOpenErrorReason } from './errors.js';
export { importGearmandQueue, type ImportOptions, type ImportResult } from './import.js';
export { SCHEMA_VERSION } from './schema.js';
