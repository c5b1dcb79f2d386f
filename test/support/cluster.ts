// Nodes of a shared queue as the command runs them: `geartrain serve --store postgres://…`
// child processes, each stopped by its PID.
import { serveCommand, type ServedCommand } from './command.js';
import type { PostgresServer } from './postgres/index.js';

/** This process's environment without a developer's own PG* settings. */
export function envWithoutPg(): NodeJS.ProcessEnv {
  return Object.fromEntries(Object.entries(process.env).filter(([name]) => !name.startsWith('PG')));
}

/**
 * Starts `geartrain serve --port PORT --store URL ARGS` (port 0: a free one) and resolves once
 * it listens. The caller stops it (`stop()`, SIGTERM; `stop('SIGKILL')`).
 */
export function startNode(
  db: PostgresServer,
  port = 0,
  args: string[] = [],
): Promise<ServedCommand> {
  return serveCommand(['--port', String(port), '--store', db.connectionString, ...args], {
    env: envWithoutPg(),
  });
}

/** Resolves after `ms`: for pacing a load (never for waiting on an outcome). */
export function pause(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Polls `test` until it holds; fails after `timeout` ms, saying `what`. */
export async function until(
  test: () => boolean | Promise<boolean>,
  what: string | (() => string),
  timeout = 10_000,
): Promise<void> {
  const deadline = Date.now() + timeout;
  for (;;) {
    if (await test()) return;
    if (Date.now() > deadline) {
      const said = typeof what === 'string' ? what : what();
      throw new Error(`timed out after ${timeout} ms waiting for ${said}`);
    }
    await pause(20);
  }
}
