import type { LoggerLike } from '@geartrain/core';
import type { Logging } from './args.js';
import { StartFailure } from './failures.js';

const SILENT: LoggerLike = { info: () => undefined, warn: () => undefined, error: () => undefined };

/**
 * The command's JSON log. pino is loaded only when something is logged: it is a third of
 * what the command imports, and test harnesses that start a server per test run it with
 * the log off (decision 18).
 * @throws StartFailure when the log file cannot be opened
 */
export async function openLog({ target, level }: Logging): Promise<LoggerLike> {
  if (target === 'none') return SILENT;
  const { pino } = await import('pino');
  const dest = target === 'stderr' ? 2 : target.file;
  let destination;
  try {
    destination = pino.destination({ dest, sync: true });
  } catch (error) {
    throw new StartFailure(`cannot write the log to ${String(dest)}: ${(error as Error).message}`, {
      cause: error,
    });
  }
  const log: LoggerLike = pino({ level, base: { pid: process.pid } }, destination);
  return log;
}
