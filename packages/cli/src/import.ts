import type { SqliteJobStore } from '@geartrain/store-sqlite';
import type { ImportSettings } from './args.js';
import { StartFailure } from './failures.js';
import { openLog } from './log.js';
import { openStore, resolveStore } from './store.js';

/** `geartrain import-gearmand`: returns the line to print. */
export async function runImport(settings: ImportSettings): Promise<string> {
  const log = await openLog(settings.logging);
  const file = resolveStore(settings.store);
  const { importGearmandQueue } = await import('@geartrain/store-sqlite');
  let sqlite: SqliteJobStore;
  try {
    sqlite = (await openStore(file, log)) as SqliteJobStore;
  } catch (error) {
    throw new StartFailure((error as Error).message, { cause: error });
  }
  try {
    const { imported, skipped } = await importGearmandQueue(settings.queueFile, sqlite, {
      table: settings.table,
      handlePrefix: settings.handlePrefix,
    });
    return (
      `imported ${imported} jobs from ${settings.queueFile} into ${file.path}` +
      (skipped > 0 ? ` (${skipped} already there)` : '')
    );
  } catch (error) {
    throw new StartFailure((error as Error).message, { cause: error });
  } finally {
    sqlite.close();
  }
}
