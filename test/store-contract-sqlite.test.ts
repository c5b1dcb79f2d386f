import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, it } from 'vitest';
import type { JobStore } from '@geartrain/core';
import { describeJobStoreContract } from '@geartrain/testing';
import { SqliteJobStore, type Durability } from '@geartrain/store-sqlite';

const dir = mkdtempSync(join(tmpdir(), 'geartrain-contract-'));
/** The store last opened on each file: a restart closes it, as its process would have died. */
const latest = new Map<string, SqliteJobStore>();
afterAll(() => {
  for (const store of latest.values()) store.close();
  rmSync(dir, { recursive: true, force: true });
});
let files = 0;

function open(path: string, durability: Durability): SqliteJobStore {
  latest.get(path)?.close();
  const store = SqliteJobStore.open(path, { durability });
  latest.set(path, store);
  return store;
}

for (const durability of ['process-crash', 'power-loss'] as Durability[]) {
  describeJobStoreContract(
    `SqliteJobStore (${durability})`,
    () => open(join(dir, `${++files}.sqlite`), durability),
    {
      api: { describe, it },
      // A restart: the file is opened again. The store open on it is closed first, as its
      // process would have died and released the lock (the crash tests kill a real one).
      reopen: (store: JobStore) => open((store as SqliteJobStore).path, durability),
    },
  );
}
