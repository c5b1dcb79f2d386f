import { closestMatch } from 'leven';
import { parseArgs } from 'node:util';
import { UsageRefusal } from './failures.js';

/** The command's options, gearmand's spellings included (both commands read one table). */
export const OPTIONS = {
  listen: { type: 'string', short: 'L' },
  port: { type: 'string', short: 'p' },
  'job-retries': { type: 'string', short: 'j' },
  exceptions: { type: 'boolean' },
  'worker-wakeup': { type: 'string', short: 'w' },
  'wake-timeout': { type: 'string' },
  'job-handle-prefix': { type: 'string' },
  'max-connections': { type: 'string' },
  'idle-timeout': { type: 'string' },
  keepalive: { type: 'boolean' },
  'allow-remote-shutdown': { type: 'boolean' },
  'allow-remote-admin': { type: 'boolean' },
  'shutdown-timeout': { type: 'string' },
  verbose: { type: 'string', short: 'v' },
  'log-file': { type: 'string', short: 'l' },
  'pid-file': { type: 'string', short: 'P' },
  threads: { type: 'string', short: 't' },
  table: { type: 'string' },
  'job-policy': { type: 'string', multiple: true },
  config: { type: 'string' },
  http: { type: 'string' },
  store: { type: 'string' },
  durability: { type: 'string' },
  'queue-type': { type: 'string', short: 'q' },
  'libsqlite3-db': { type: 'string' },
  'libsqlite3-table': { type: 'string' },
  'store-queue-on-shutdown': { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
  version: { type: 'boolean' },
} as const;

type Table = typeof OPTIONS;
type ValueOf<O> = O extends { type: 'boolean' }
  ? boolean
  : O extends { multiple: true }
    ? string[]
    : string;

/** The options given, each with the type its table entry says. */
export type OptionValues = { -readonly [K in keyof Table]?: ValueOf<Table[K]> };

const LONG_NAMES = Object.keys(OPTIONS);
const SHORT_NAMES = new Map<string, string>(
  Object.entries(OPTIONS).flatMap(([name, option]) =>
    'short' in option ? [[option.short, name] as [string, string]] : [],
  ),
);

function definition(name: string): { type: 'string' | 'boolean' } | undefined {
  return (OPTIONS as Record<string, { type: 'string' | 'boolean' }>)[name];
}

/** "did you mean '--port'?" for a misspelt long option, when one is close enough. */
export function suggestion(word: string, candidates: readonly string[]): string {
  // A beginning of names (`--allow-remote`) names them all.
  const longer = candidates.filter((name) => name.startsWith(word));
  if (longer.length > 0 && longer.length <= 3) {
    return ` (did you mean ${longer.map((name) => `'${name}'`).join(' or ')}?)`;
  }
  const match = closestMatch(word, candidates, {
    maxDistance: Math.max(2, Math.floor(word.length / 3)),
  });
  // closestMatch returns the best candidate within maxDistance, or undefined.
  return match === undefined ? '' : ` (did you mean '${match}'?)`;
}

/** Whether an argument taken as an option's value is rather another option. */
function looksLikeOption(value: string): boolean {
  if (value.startsWith('--')) return value.length > 2;
  return /^-[A-Za-z]$/.test(value) && SHORT_NAMES.has(value.slice(1));
}

/**
 * Splits the arguments into options and positionals. `parseArgs` runs without `strict`, and
 * its tokens are checked here instead: its own messages speak of JavaScript's positionals
 * (with an unbalanced quote), not of this command, and a value that starts with a dash
 * (`--port -1`) is the option's value, to be refused by its own check, as getopt reads it.
 * @throws UsageRefusal naming the argument at fault
 */
export function readOptions(argv: readonly string[]): {
  values: OptionValues;
  positionals: string[];
} {
  const { values, positionals, tokens } = parseArgs({
    args: [...argv],
    options: OPTIONS,
    allowPositionals: true,
    strict: false,
    tokens: true,
  });
  for (const token of tokens) {
    if (token.kind !== 'option') continue;
    const raw = token.rawName;
    const option = definition(token.name);
    const arg = argv[token.index] ?? raw;
    if (option === undefined) {
      if (raw.startsWith('--')) {
        const names = LONG_NAMES.map((name) => `--${name}`);
        throw new UsageRefusal(`unknown option '${raw}'${suggestion(raw, names)}`);
      }
      throw new UsageRefusal(`unknown option '${raw}'`);
    }
    // `-port 4730` reads as -p with the value "ort": say what was meant.
    if (!arg.startsWith('--') && arg.length > 2 && definition(arg.slice(1)) !== undefined) {
      throw new UsageRefusal(`unknown option '${arg}': long options take two dashes ('-${arg}')`);
    }
    const value = token.value;
    if (option.type === 'boolean') {
      if (value !== undefined) throw new UsageRefusal(`${raw} takes no value, not '${value}'`);
    } else if (value === undefined) {
      throw new UsageRefusal(`${raw} needs a value`);
    } else if (!token.inlineValue && looksLikeOption(value)) {
      throw new UsageRefusal(`${raw} needs a value, not the option '${value}'`);
    }
  }
  return { values: values as OptionValues, positionals };
}
