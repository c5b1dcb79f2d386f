import type { JobStore, LoggerLike } from '@geartrain/core';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { mkdirSync } from 'node:fs';
import type { Durability } from '@geartrain/store-sqlite';

/** The command's store options, gearmand's spellings included. */
export const STORE_OPTIONS = {
  store: { type: 'string' },
  durability: { type: 'string' },
  'queue-type': { type: 'string', short: 'q' },
  'libsqlite3-db': { type: 'string' },
  'libsqlite3-table': { type: 'string' },
  'store-queue-on-shutdown': { type: 'boolean' },
} as const;

export const STORE_HELP = `      --store PATH|memory     where background jobs are kept: an SQLite file (default
                              ${defaultStorePath().replace(homedir(), '~')}), or "memory" (lost at exit)
      --durability MODE       process-crash (default): a job acknowledged survives the
                              process being killed; power-loss: it also survives a power
                              cut or an OS crash (one fsync per commit)
  -q, --queue-type libsqlite3 with --libsqlite3-db FILE [--libsqlite3-table NAME]: gearmand's
                              spelling of --store FILE
`;

export interface StoreValues {
  store?: string;
  durability?: string;
  'queue-type'?: string;
  'libsqlite3-db'?: string;
  'libsqlite3-table'?: string;
  'store-queue-on-shutdown'?: boolean;
}

/** What the options ask for: a file (with its settings) or memory. */
export type StoreChoice =
  | { readonly kind: 'memory' }
  | {
      readonly kind: 'sqlite';
      readonly path: string;
      readonly table: string | undefined;
      readonly durability: Durability;
    };

/** `$XDG_STATE_HOME/geartrain/jobs.sqlite`, or `~/.local/state/geartrain/jobs.sqlite`. */
export function defaultStorePath(): string {
  const state = process.env['XDG_STATE_HOME'] || join(homedir(), '.local', 'state');
  return join(state, 'geartrain', 'jobs.sqlite');
}

/** Reads the store options; a contradiction or an unsupported option is a message. */
export function storeChoice(values: StoreValues): StoreChoice | string {
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
  if (path === 'memory' || queueType === 'builtin') {
    return { kind: 'memory' };
  }
  return {
    kind: 'sqlite',
    path: path ?? defaultStorePath(),
    table: values['libsqlite3-table'],
    durability,
  };
}

/**
 * Opens the chosen store. better-sqlite3 is a native module, loaded only when a file store
 * is used (`--store memory` starts without it).
 */
export async function openStore(
  choice: StoreChoice,
  logger: LoggerLike,
): Promise<{ store: JobStore | null; where: string }> {
  if (choice.kind === 'memory') return { store: null, where: 'memory (jobs are lost at exit)' };
  const { SqliteJobStore } = await import('@geartrain/store-sqlite');
  if (choice.path === defaultStorePath()) mkdirSync(join(choice.path, '..'), { recursive: true });
  const store = SqliteJobStore.open(choice.path, {
    durability: choice.durability,
    table: choice.table,
    logger,
  });
  return { store, where: `${choice.path} (${choice.durability})` };
}
