import type { JobStore, LoggerLike } from '@geartrain/core';
import { DEFAULT_PORT } from '@geartrain/tcp';
import type { Durability } from '@geartrain/store-sqlite';
import { accessSync, constants, existsSync, mkdirSync, statSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';
import type { OptionValues } from './options.js';
import { unwritable } from './preflight.js';

/**
 * What the options ask for: memory, a file named by the options, or the default file of
 * the server's port in the state folder (found on disk by {@link resolveStore}).
 */
export type StoreChoice =
  | { readonly kind: 'memory' }
  /**
   * The shared queue in PostgreSQL (`--store postgres://…`): this server is one node of it.
   * What the URL leaves out comes from the `PG*` environment variables, as for psql.
   */
  | { readonly kind: 'postgres'; readonly connectionString: string }
  | {
      readonly kind: 'file';
      readonly path: string;
      readonly table: string | undefined;
      readonly durability: Durability;
    }
  | {
      readonly kind: 'default';
      /** `$XDG_STATE_HOME/geartrain` or `~/.local/state/geartrain`. */
      readonly dir: string;
      readonly port: number;
      readonly table: string | undefined;
      readonly durability: Durability;
    };

/** A file store with its path settled. */
export interface StoreFile {
  readonly path: string;
  readonly table: string | undefined;
  readonly durability: Durability;
  /** Whether it is the default folder's, which is made when missing. */
  readonly inDefaultDir: boolean;
  /**
   * The store of releases before the store was one per port (`jobs.sqlite`), when this
   * start meets it: `kept` when this server uses it, `elsewhere` when it is left to the
   * server of port 4730 and this one starts a file of its own.
   */
  readonly legacy?: { readonly state: 'kept' | 'elsewhere'; readonly path: string };
}

/** The folder of the default stores: `$XDG_STATE_HOME/geartrain`, or `~/.local/state/geartrain`. */
export function defaultStoreDir(env: NodeJS.ProcessEnv): string {
  const home = env['HOME'] || homedir();
  return join(env['XDG_STATE_HOME'] || join(home, '.local', 'state'), 'geartrain');
}

/** The default folder as help shows it, under `~` when it is in the home folder. */
export function shownStoreDir(env: NodeJS.ProcessEnv): string {
  const dir = defaultStoreDir(env);
  const home = env['HOME'] || homedir();
  return dir.startsWith(`${home}/`) ? `~${dir.slice(home.length)}` : dir;
}

/** A `--store` that names a PostgreSQL database rather than a file. */
const POSTGRES_URL = /^postgres(ql)?:\/\//i;

/** Reads the store options; a contradiction or an unsupported option is a message. */
export function storeChoice(
  values: OptionValues,
  port: number,
  env: NodeJS.ProcessEnv,
): StoreChoice | string {
  if (values['store-queue-on-shutdown'] === true) {
    return (
      '--store-queue-on-shutdown is refused: it writes the queue only at a clean shutdown, so ' +
      'a kill -9 or a crash loses every job. geartrain writes each job when it is accepted.'
    );
  }
  const durability = values.durability ?? 'process-crash';
  if (durability !== 'process-crash' && durability !== 'power-loss') {
    return `--durability is process-crash or power-loss, not '${durability}'`;
  }
  const queueType = values['queue-type'];
  if (queueType !== undefined && queueType !== 'libsqlite3' && queueType !== 'builtin') {
    return `queue type '${queueType}' is not supported: geartrain keeps jobs in SQLite (-q libsqlite3) or in memory (--store memory)`;
  }
  const db = values['libsqlite3-db'];
  if (db !== undefined && queueType !== 'libsqlite3') {
    return '--libsqlite3-db needs -q libsqlite3';
  }
  if (queueType === 'libsqlite3' && db === undefined) {
    return '-q libsqlite3 needs --libsqlite3-db FILE';
  }
  if (db !== undefined && values.store !== undefined && values.store !== db) {
    return `--store ${values.store} and --libsqlite3-db ${db} name two stores; give one`;
  }
  const path = values.store ?? db;
  if (path === '') return '--store needs a file path, memory, or a postgres:// URL';
  if (path !== undefined && POSTGRES_URL.test(path)) {
    if (values.durability !== undefined) {
      return '--durability is for an SQLite store: PostgreSQL commits each job as it is configured to';
    }
    if (values['libsqlite3-table'] !== undefined) {
      return '--libsqlite3-table is for an SQLite store, not postgres://';
    }
    return { kind: 'postgres', connectionString: path };
  }
  const table = values['libsqlite3-table'];
  if (table === '') return '--libsqlite3-table needs a table name';
  if (path === 'memory' || queueType === 'builtin') return { kind: 'memory' };
  if (path !== undefined) return { kind: 'file', path, table, durability };
  return { kind: 'default', dir: defaultStoreDir(env), port, table, durability };
}

/** Where release 0.1.0 kept every server's jobs, whatever its port. */
export const LEGACY_STORE = 'jobs.sqlite';

/**
 * Settles the file of a choice. The default is one file per port, `jobs-PORT.sqlite`, so
 * servers on different ports run side by side (as gearmand's do, and as test harnesses
 * start them) and a server finds its jobs again on the same port. The single
 * `jobs.sqlite` of earlier releases is never left behind unseen: the server of port 4730,
 * the default port, keeps using it for as long as there is no `jobs-4730.sqlite`, and a
 * server of another port that makes its own file says where those jobs are.
 */
export function resolveStore(
  choice: Extract<StoreChoice, { kind: 'file' | 'default' }>,
  exists: (path: string) => boolean = existsSync,
): StoreFile {
  const { table, durability } = choice;
  if (choice.kind === 'file') {
    return { path: choice.path, table, durability, inDefaultDir: false };
  }
  const own = join(choice.dir, `jobs-${choice.port}.sqlite`);
  const legacy = join(choice.dir, LEGACY_STORE);
  if (exists(own) || !exists(legacy)) {
    return { path: own, table, durability, inDefaultDir: true };
  }
  if (choice.port === DEFAULT_PORT) {
    return {
      path: legacy,
      table,
      durability,
      inDefaultDir: true,
      legacy: { state: 'kept', path: legacy },
    };
  }
  return {
    path: own,
    table,
    durability,
    inDefaultDir: true,
    legacy: { state: 'elsewhere', path: legacy },
  };
}

/**
 * Why SQLite could not open a path, in words a person can act on, where its own message
 * ("unable to open database file") says the same of a folder, a missing folder and one that
 * cannot be written; undefined when none of those is the case.
 */
export function diagnosePath(path: string): string | undefined {
  const folder = dirname(path);
  try {
    if (statSync(path).isDirectory()) {
      return `${path} is a folder: give the path of a file, such as ${join(path, 'jobs.sqlite')}`;
    }
  } catch {
    // no such file: the folder decides
  }
  try {
    if (!statSync(folder).isDirectory()) return `${folder} is not a folder`;
  } catch {
    return `the folder ${folder} does not exist`;
  }
  try {
    // The folder must take the file and its write-ahead log (`-wal`) beside it.
    accessSync(folder, constants.W_OK);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    return `the folder ${folder} ${unwritable(code)}: the store and its write-ahead log go there`;
  }
  return undefined;
}

/**
 * Opens a file store. better-sqlite3 is a native module, loaded only when a file store is
 * used (`--store memory` starts without it).
 * @throws StoreOpenError, its message made precise by {@link diagnosePath} where SQLite's is not
 */
export async function openStore(file: StoreFile, logger: LoggerLike): Promise<JobStore> {
  const { SqliteJobStore } = await import('@geartrain/store-sqlite');
  if (file.inDefaultDir) mkdirSync(dirname(file.path), { recursive: true });
  try {
    return SqliteJobStore.open(file.path, {
      durability: file.durability,
      table: file.table,
      logger,
    });
  } catch (error) {
    const reason = (error as { reason?: string }).reason;
    const diagnosis =
      reason === 'CANNOT_OPEN' || reason === 'READ_ONLY' ? diagnosePath(file.path) : undefined;
    if (diagnosis === undefined) throw error;
    throw new Error(`cannot open the store ${file.path}: ${diagnosis}`, { cause: error });
  }
}
