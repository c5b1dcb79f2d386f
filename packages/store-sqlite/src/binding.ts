import { createRequire } from 'node:module';
import type BetterSqlite3 from 'better-sqlite3';

/**
 * The SQLite binding for the running Node: better-sqlite3 13 on Node 22 and newer, 12 on
 * Node 20 (decision 27). Node 24.19 made `node::ObjectWrap` register an environment cleanup
 * hook, and better-sqlite3 before 13 builds its statements on ObjectWrap: a statement
 * collected by a GC outside JavaScript (an idle GC, or at exit) then aborts the process in
 * `RemoveEnvironmentCleanupHook`. 13 is built on Node-API instead, but needs Node 22 (on 20
 * it crashes). npm has no dependency by Node version, so 12 is a dependency and 13 an
 * optional one under the alias `better-sqlite3-13`, which npm installs only where its
 * engines allow; the one to use is chosen here. Their APIs are the same.
 */
const require = createRequire(import.meta.url);

function load(): typeof BetterSqlite3 {
  const major = Number(process.versions.node.split('.')[0]);
  if (major >= 22) {
    try {
      return require('better-sqlite3-13') as typeof BetterSqlite3;
    } catch (error) {
      // Not installed (an install that skipped optional dependencies): 12 works on Node 22
      // and on 24 before 24.19.
      if ((error as NodeJS.ErrnoException).code !== 'MODULE_NOT_FOUND') throw error;
    }
  }
  return require('better-sqlite3') as typeof BetterSqlite3;
}

export const Database: typeof BetterSqlite3 = load();
export type Database = BetterSqlite3.Database;
