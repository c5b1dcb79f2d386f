import { VERSION } from '@geartrain/tcp';
import { parseCommandLine } from './args.js';
import { StartFailure, UsageRefusal } from './failures.js';
import { IMPORT_HELP, serveHelp } from './help.js';
import { runImport } from './import.js';
import { runServe } from './serve.js';
import { shownStoreDir } from './store.js';

/** Bad arguments: exit 2, with the pointer to --help. */
function usage(message: string): never {
  process.stderr.write(`geartrain: ${message}\nTry 'geartrain --help'.\n`);
  process.exit(2);
}

/** Right arguments, and the work could not be done: exit 1. */
function failure(message: string): never {
  process.stderr.write(`geartrain: ${message}\n`);
  process.exit(1);
}

async function main(argv: readonly string[], env: NodeJS.ProcessEnv): Promise<void> {
  const command = parseCommandLine(argv, env);
  switch (command.kind) {
    case 'usage-error':
      return usage(command.message);
    case 'help':
      process.stdout.write(command.topic === 'serve' ? serveHelp(shownStoreDir(env)) : IMPORT_HELP);
      return;
    case 'version':
      process.stdout.write(`${VERSION}\n`);
      return;
  }
  try {
    if (command.kind === 'import-gearmand') {
      process.stdout.write(`${await runImport(command.settings)}\n`);
    } else {
      await runServe(command.settings);
    }
  } catch (error) {
    if (error instanceof UsageRefusal) usage(error.message);
    if (error instanceof StartFailure) failure(error.message);
    throw error;
  }
}

await main(process.argv.slice(2), process.env);
