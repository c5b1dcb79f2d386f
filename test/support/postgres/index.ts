/**
 * A throwaway PostgreSQL for tests, shared by the root `test/` project and package tests,
 * which import it by relative path. It has its own tsconfig so that both can reference it
 * without a cycle; it imports no @geartrain package and no driver (it talks through `psql`).
 */
import { describe, it } from 'vitest';
import { findPostgres } from './binaries.js';

export { findPostgres, MIN_MAJOR, type PostgresBinaries } from './binaries.js';
export {
  startPostgres,
  type BackendFilter,
  type PostgresServer,
  type StartPostgresOptions,
} from './server.js';

/** True under CI, where a missing PostgreSQL is a failure, not a skip. */
const IN_CI = process.env['CI'] === 'true' || process.env['CI'] === '1';

/**
 * `describe` for a suite that needs PostgreSQL. Without it the suite is skipped locally, with
 * the reason in its name, and fails under CI (scripts/install-test-deps.sh installs it).
 */
export function describeWithPostgres(name: string, body: () => void): void {
  if (findPostgres() !== undefined) {
    describe(name, body);
  } else if (IN_CI) {
    describe(name, () => {
      it('has PostgreSQL', () => {
        throw new Error('PostgreSQL 14+ not found: run scripts/install-test-deps.sh');
      });
    });
  } else {
    describe.skip(`${name} (PostgreSQL 14+ not found: run scripts/install-test-deps.sh)`, body);
  }
}
