import { openStore, type StoreChoice } from './cli-store.js';
import type { LoggerLike } from '@geartrain/core';
import type { SqliteJobStore } from '@geartrain/store-sqlite';

export const IMPORT_HELP = `Usage: geartrain import-gearmand QUEUE_FILE [--table NAME] [--store PATH]

Moves the jobs of a gearmand libsqlite3 queue file (gearmand -q libsqlite3
--libsqlite3-db QUEUE_FILE) into a geartrain store (default: the store geartrain serve
uses). The queue file is only read. Jobs keep their function, unique id, priority, payload
and time; each gets a geartrain handle. Running it twice imports nothing twice.

      --table NAME            gearmand's --libsqlite3-table (default: the one queue table)
      --store PATH            the geartrain store to fill
      --job-handle-prefix P   handles of the imported jobs are P:<n> (default H:<hostname>)
`;

/** `geartrain import-gearmand`: returns the line to print. */
export async function importCommand(
  queueFile: string,
  choice: StoreChoice,
  options: { table?: string; handlePrefix?: string },
  logger: LoggerLike,
): Promise<string> {
  if (choice.kind !== 'sqlite') throw new Error('import-gearmand needs a store file, not memory');
  const { importGearmandQueue } = await import('@geartrain/store-sqlite');
  const { store } = await openStore(choice, logger);
  const sqlite = store as SqliteJobStore;
  try {
    const { imported, skipped } = await importGearmandQueue(queueFile, sqlite, options);
    return `imported ${imported} jobs from ${queueFile} into ${choice.path}${skipped > 0 ? ` (${skipped} already there)` : ''}`;
  } finally {
    sqlite.close();
  }
}
