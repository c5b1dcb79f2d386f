/**
 * The Gearman admin text protocol (reference §4): parsing a command line into a typed
 * command, and formatting every reply byte for byte as gearmand 1.1.20 does.
 */

/** Per-priority queue limits of `maxqueue`; 0 means unlimited. */
export interface QueueLimits {
  readonly high: number;
  readonly normal: number;
  readonly low: number;
}

/** A parsed admin line. Commands gearmand rejects are typed too, with what it replies. */
export type AdminCommand =
  | { readonly name: 'status' }
  | { readonly name: 'workers' }
  | { readonly name: 'prioritystatus' }
  | { readonly name: 'show jobs' }
  | { readonly name: 'show unique jobs' }
  | { readonly name: 'cancel job'; readonly handle: string }
  | { readonly name: 'create function'; readonly functionName: string }
  | { readonly name: 'drop function'; readonly functionName: string }
  | { readonly name: 'maxqueue'; readonly functionName: string; readonly limits: QueueLimits }
  | { readonly name: 'getpid' }
  | { readonly name: 'version' }
  | { readonly name: 'verbose' }
  | { readonly name: 'shutdown'; readonly graceful: boolean }
  /**
   * geartrain's own: `policy FN` shows a function's policy (retries and retention),
   * `policy FN none` removes it, `policy FN attempts=3,backoff=exponential,delay=1000,
   * keep-failed=1000` sets it.
   */
  | { readonly name: 'policy'; readonly functionName: string; readonly settings: readonly string[] }
  /** geartrain's own: kept outcomes (`show failed [FN]`, `show finished [FN]`). */
  | {
      readonly name: 'show outcomes';
      readonly state: 'failed' | 'completed';
      readonly functionName?: string;
    }
  /** geartrain's own: `show job H`, one job, live or kept, with its attempts' errors. */
  | { readonly name: 'show job'; readonly handle: string }
  /** geartrain's own: `help` lists the commands, one line each. */
  | { readonly name: 'help' }
  /** geartrain's own: `retry job H` runs a failed job again under its handle. */
  | { readonly name: 'retry job'; readonly handle: string }
  /** geartrain's own: `discard job H` forgets a kept outcome, `discard failed FN` all failed ones. */
  | { readonly name: 'discard job'; readonly handle: string }
  | { readonly name: 'discard failed'; readonly functionName: string }
  /** geartrain's own: `pause FN` / `resume FN` stop and restart handing out a function's jobs. */
  | { readonly name: 'pause'; readonly functionName: string }
  | { readonly name: 'resume'; readonly functionName: string }
  /**
   * geartrain's own: `limit FN` shows a function's limits, `limit FN none` removes them,
   * `limit FN rate=10/1000,concurrency=5` sets them (at most 10 starts per 1000 ms, 5 at once).
   */
  | { readonly name: 'limit'; readonly functionName: string; readonly settings: readonly string[] }
  /** geartrain's own: `show functions` lists paused and limited functions. */
  | { readonly name: 'show functions' }
  /** geartrain's own: `show schedules` lists the schedules. */
  | { readonly name: 'show schedules' }
  /** geartrain's own: `show nodes` lists the nodes of the server's queue (a shared queue's). */
  | { readonly name: 'show nodes' }
  /**
   * geartrain's own: `schedule add ID FN SPEC` defines a schedule, SPEC being URL-encoded
   * settings (`every=300000&priority=low`, `cron=0+*%2F5+*+*+*+*&tz=Europe/Berlin`);
   * `schedule remove ID` removes one.
   */
  | {
      readonly name: 'schedule add';
      readonly id: string;
      readonly functionName: string;
      readonly spec: string;
    }
  | { readonly name: 'schedule remove'; readonly id: string }
  /** An unknown first word: `ERR UNKNOWN_COMMAND Unknown+server+command<word>`. */
  | { readonly name: 'unknown command'; readonly word: string }
  /** A known command with the wrong arguments: `ERR INVALID_ARGUMENTS …<word>`. */
  | { readonly name: 'invalid arguments'; readonly word: string }
  /** `show` followed by something else than `jobs` or `unique jobs`. */
  | { readonly name: 'unknown show arguments' }
  /** `cancel` with three or more tokens that are not `cancel job HANDLE`: `ERR UNKNOWN_ERROR`. */
  | { readonly name: 'malformed cancel' }
  /**
   * Six or more tokens: gearmand closes the connection without a reply (geartrain answers
   * an ERR instead; `@geartrain/tcp`).
   */
  | { readonly name: 'too many tokens' };

/** The most tokens gearmand accepts on one admin line. */
export const MAX_ADMIN_TOKENS = 5;

/**
 * Splits a line the way gearmand does: at the first space of each token, skipping the run of
 * spaces after it. A leading space yields an empty first token and a trailing space an empty
 * last token. An empty line is one empty token.
 */
export function tokenizeAdminLine(line: string): string[] {
  const tokens: string[] = [];
  let start = 0;
  for (;;) {
    const space = line.indexOf(' ', start);
    if (space === -1) {
      tokens.push(line.slice(start));
      return tokens;
    }
    tokens.push(line.slice(start, space));
    start = space + 1;
    while (line.charCodeAt(start) === 0x20) start++;
  }
}

/** C `atoi` on a decimal prefix, clamped to gearmand's use: negative means unlimited (0). */
function queueLimit(token: string | undefined): number {
  if (token === undefined) return 0;
  const match = /^[\t\n\v\f\r ]*([+-]?\d+)/.exec(token);
  if (match === null) return 0;
  const value = Number.parseInt(match[1]!, 10);
  if (value < 0) return 0;
  return Math.min(value, 0x7fffffff);
}

function same(a: string | undefined, b: string): boolean {
  return a !== undefined && a.toLowerCase() === b;
}

/**
 * Parses one admin line (without its line ending) into a typed command, following
 * gearmand 1.1.20's `server_run_text` branch for branch. Command words are
 * case-insensitive. `shutdown [graceful]` is parsed as the servers before 1.1.15 did.
 */
export function parseAdminLine(line: string): AdminCommand {
  const tokens = tokenizeAdminLine(line);
  const argc = tokens.length;
  if (argc > MAX_ADMIN_TOKENS) return { name: 'too many tokens' };
  const word = tokens[0]!;
  switch (word.toLowerCase()) {
    case 'workers':
      return { name: 'workers' };
    case 'prioritystatus':
      return { name: 'prioritystatus' };
    case 'status':
      return { name: 'status' };
    case 'cancel':
      if (argc < 3) break;
      if (argc === 3 && same(tokens[1], 'job')) return { name: 'cancel job', handle: tokens[2]! };
      return { name: 'malformed cancel' };
    case 'show':
      if (argc < 2) break;
      if (argc === 3 && same(tokens[1], 'unique') && same(tokens[2], 'jobs')) {
        return { name: 'show unique jobs' };
      }
      if (argc === 2 && same(tokens[1], 'jobs')) return { name: 'show jobs' };
      if (argc === 2 && same(tokens[1], 'functions')) return { name: 'show functions' };
      if (argc === 2 && same(tokens[1], 'schedules')) return { name: 'show schedules' };
      if (argc === 2 && same(tokens[1], 'nodes')) return { name: 'show nodes' };
      if (argc === 3 && same(tokens[1], 'job')) return { name: 'show job', handle: tokens[2]! };
      if (argc <= 3 && (same(tokens[1], 'failed') || same(tokens[1], 'finished'))) {
        const state = same(tokens[1], 'failed') ? 'failed' : 'completed';
        return argc === 3
          ? { name: 'show outcomes', state, functionName: tokens[2]! }
          : { name: 'show outcomes', state };
      }
      return { name: 'unknown show arguments' };
    case 'create':
      if (argc === 3 && same(tokens[1], 'function')) {
        return { name: 'create function', functionName: tokens[2]! };
      }
      return { name: 'invalid arguments', word };
    case 'drop':
      if (argc === 3 && same(tokens[1], 'function')) {
        return { name: 'drop function', functionName: tokens[2]! };
      }
      return { name: 'invalid arguments', word };
    case 'maxqueue': {
      if (argc === 1) return { name: 'invalid arguments', word };
      const high = queueLimit(tokens[2]);
      // One or no number applies to all three priorities; two leave LOW unlimited.
      const limits =
        argc <= 3
          ? { high, normal: high, low: high }
          : { high, normal: queueLimit(tokens[3]), low: queueLimit(tokens[4]) };
      return { name: 'maxqueue', functionName: tokens[1]!, limits };
    }
    case 'getpid':
      return { name: 'getpid' };
    case 'shutdown':
      if (argc === 1) return { name: 'shutdown', graceful: false };
      if (argc === 2 && same(tokens[1], 'graceful')) return { name: 'shutdown', graceful: true };
      return { name: 'invalid arguments', word };
    case 'verbose':
      return { name: 'verbose' };
    case 'version':
      return { name: 'version' };
    // geartrain's own commands; any other form of them is an unknown command, as gearmand
    // answers it, so that no reply gearmand gives changes.
    case 'help':
      return { name: 'help' };
    case 'retry':
      if (argc === 3 && same(tokens[1], 'job')) return { name: 'retry job', handle: tokens[2]! };
      break;
    case 'discard':
      if (argc === 3 && same(tokens[1], 'job')) return { name: 'discard job', handle: tokens[2]! };
      if (argc === 3 && same(tokens[1], 'failed')) {
        return { name: 'discard failed', functionName: tokens[2]! };
      }
      break;
    case 'policy':
      if (argc >= 2) return { name: 'policy', functionName: tokens[1]!, settings: tokens.slice(2) };
      break;
    case 'pause':
      if (argc === 2) return { name: 'pause', functionName: tokens[1]! };
      break;
    case 'resume':
      if (argc === 2) return { name: 'resume', functionName: tokens[1]! };
      break;
    case 'limit':
      if (argc >= 2) return { name: 'limit', functionName: tokens[1]!, settings: tokens.slice(2) };
      break;
    case 'schedule':
      if (argc === 5 && same(tokens[1], 'add')) {
        return { name: 'schedule add', id: tokens[2]!, functionName: tokens[3]!, spec: tokens[4]! };
      }
      if (argc === 3 && same(tokens[1], 'remove'))
        return { name: 'schedule remove', id: tokens[2]! };
      break;
  }
  return { name: 'unknown command', word };
}

// ---------------------------------------------------------------------------------------
// Replies. Line endings differ by reply and clients depend on them (reference §4.1):
// listings end with "\n" and a "." line, OK/ERR of mutating commands end with "\r\n",
// and "OK <value>" of getpid/version/verbose ends with "\n".

/** A row of `status`. */
export interface StatusRow {
  readonly functionName: string;
  /** Queued plus running jobs. */
  readonly total: number;
  readonly running: number;
  /** Registered workers. */
  readonly workers: number;
}

/** A row of `prioritystatus`: queued (not running) jobs by priority. */
export interface PriorityStatusRow {
  readonly functionName: string;
  readonly high: number;
  readonly normal: number;
  readonly low: number;
  readonly workers: number;
}

/** A row of `workers`: one per connection. */
export interface WorkerRow {
  /** gearmand prints the socket's file descriptor; any connection number will do. */
  readonly fd: number;
  readonly address: string;
  /** `-` when the connection never sent SET_CLIENT_ID. */
  readonly clientId: string;
  readonly functions: readonly string[];
}

/** A row of `show jobs`. */
export interface JobRow {
  readonly handle: string;
  readonly retries: number;
  readonly ignored: boolean;
  readonly persisted: boolean;
}

const END = '.\n';
const flag = (value: boolean): string => (value ? '1' : '0');

export function formatStatus(rows: readonly StatusRow[]): string {
  let out = '';
  for (const r of rows) out += `${r.functionName}\t${r.total}\t${r.running}\t${r.workers}\n`;
  return out + END;
}

export function formatPriorityStatus(rows: readonly PriorityStatusRow[]): string {
  let out = '';
  for (const r of rows) {
    out += `${r.functionName}\t${r.high}\t${r.normal}\t${r.low}\t${r.workers}\n`;
  }
  return out + END;
}

export function formatWorkers(rows: readonly WorkerRow[]): string {
  let out = '';
  for (const r of rows) {
    out += `${r.fd} ${r.address} ${r.clientId} :`;
    for (const fn of r.functions) out += ` ${fn}`;
    out += '\n';
  }
  return out + END;
}

export function formatShowJobs(rows: readonly JobRow[]): string {
  let out = '';
  for (const r of rows) {
    out += `${r.handle}\t${r.retries}\t${flag(r.ignored)}\t${flag(r.persisted)}\n`;
  }
  return out + END;
}

export function formatShowUniqueJobs(uniques: readonly string[]): string {
  let out = '';
  for (const unique of uniques) out += `${unique}\n`;
  return out + END;
}

/** `OK\r\n`: success of cancel job, create/drop function, maxqueue, shutdown. */
export function formatOk(): string {
  return 'OK\r\n';
}

/** `OK <value>\n`: the reply of getpid, version and verbose. */
export function formatOkValue(value: string): string {
  return `OK ${value}\n`;
}

/** `ERR <message>\r\n`. */
export function formatErr(message: string): string {
  return `ERR ${message}\r\n`;
}

/** The fixed error messages gearmand uses after `ERR `. */
export const ADMIN_ERRORS = {
  unknownJob: 'UNKNOWN_JOB',
  unknownError: 'UNKNOWN_ERROR',
  unknownShowArguments: 'UNKNOWN_SHOW_ARGUMENTS',
  functionNotFound: 'function not found',
  functionBusy: 'there are still connected workers or executing clients',
} as const;

/**
 * The reply to a command that gearmand rejects without touching any state, or `undefined`
 * for commands a server must act on (and for `too many tokens`, which gets no reply).
 */
export function formatRejection(command: AdminCommand): string | undefined {
  switch (command.name) {
    case 'unknown command':
      return formatErr(`UNKNOWN_COMMAND Unknown+server+command${command.word}`);
    case 'invalid arguments':
      return formatErr(
        `INVALID_ARGUMENTS An+incomplete+set+of+arguments+was+sent+to+this+command+${command.word}`,
      );
    case 'unknown show arguments':
      return formatErr(ADMIN_ERRORS.unknownShowArguments);
    case 'malformed cancel':
      return formatErr(ADMIN_ERRORS.unknownError);
    default:
      return undefined;
  }
}
