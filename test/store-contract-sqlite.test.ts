import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, it } from 'vitest';
import type { JobStore } from '@geartrain/core';
import { describeJobStoreContract } from '@geartrain/testing';
import { SqliteJobStore, type Durability } from '@geartrain/store-sqlite';

const dir = mkdtempSync(join(tmpdir(), 'geartrain-contract-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
let files = 0;

for (const durability of ['process-crash', 'power-loss'] as Durability[]) {
  describeJobStoreContract(
    `SqliteJobStore (${durability})`,
    () => SqliteJobStore.open(join(dir, `${++files}.sqlite`), { durability }),
    {
      api: { describe, it },
      // A restart: the file is opened again. The store open on it is closed first, as its
      // process would have died and released the lock (the crash tests kill a real one).
      reopen: (store: JobStore) => {
        const sqlite = store as SqliteJobStore;
        sqlite.close();
        return SqliteJobStore.open(sqlite.path, { durability });
      },
    },
  );
}
