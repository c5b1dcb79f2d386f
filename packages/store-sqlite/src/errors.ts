// From protocol, not core: the store must not load core and rxjs a second time beside the
// command's bundle (that cost ~90 ms at start). The brand makes instanceof work across copies.
import { GeartrainError } from '@geartrain/protocol';

/**
 * Why a store file could not be opened:
 *
 * - `LOCKED`: another server (or another program) has it open; two servers on one file would
 *   run every job twice.
 * - `READ_ONLY`: the file or its folder cannot be written.
 * - `CORRUPT`: the file is not an SQLite database, or a damaged one. It is left as it is.
 * - `NEWER_SCHEMA`: a newer release of geartrain wrote it; this one cannot read it.
 * - `FOREIGN`: an SQLite database that is not a geartrain store: a gearmand queue file, or
 *   another program's data. It is not touched.
 * - `CANNOT_OPEN`: any other failure (no such folder, no permission).
 */
export type StoreOpenErrorReason =
  'LOCKED' | 'READ_ONLY' | 'CORRUPT' | 'NEWER_SCHEMA' | 'FOREIGN' | 'CANNOT_OPEN';

/** A store file that the server refuses to start on; the message says what to do. */
export class StoreOpenError extends GeartrainError<'STORE_OPEN_FAILED'> {
  constructor(
    readonly reason: StoreOpenErrorReason,
    readonly path: string,
    message: string,
    cause?: unknown,
  ) {
    super('STORE_OPEN_FAILED', message, { cause });
  }
}

/** SQLite's primary result code names (`SQLITE_BUSY`, …) of an error, if it has one. */
export function sqliteCode(error: unknown): string {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? code.replace(/^(SQLITE_[A-Z]+).*$/, '$1') : '';
}
