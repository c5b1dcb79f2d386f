import { InvalidArgumentError } from '@geartrain/core';
import {
  formatErr,
  formatRejection,
  MAX_ADMIN_TOKENS,
  parseAdminLine,
  type AdminCommand,
} from '@geartrain/protocol';
import type { AdminCommandOf, AdminContext } from '../context.js';
import { isLoopback } from '../loopback.js';
import type { Slot } from '../output.js';
import {
  limit,
  pause,
  resume,
  scheduleAdd,
  scheduleRemove,
  showFunctions,
  showNodes,
  showSchedules,
} from './controls.js';
import {
  cancelJob,
  createFunction,
  dropFunction,
  getPid,
  maxQueue,
  priorityStatus,
  showJobs,
  showUniqueJobs,
  shutdown,
  status,
  verbose,
  version,
  workers,
} from './gearmand.js';
import { discardFailed, discardJob, policy, retryJob, showJob, showOutcomes } from './outcomes.js';
import { errorReply, listing, plus } from './replies.js';

/** The parsed lines gearmand answers with an ERR without acting (`formatRejection`). */
type Rejected =
  | 'unknown command'
  | 'invalid arguments'
  | 'unknown show arguments'
  | 'malformed cancel'
  | 'too many tokens';

type CommandName = Exclude<AdminCommand['name'], Rejected>;

/** One admin command: what `help` says of it, and what it does. */
interface AdminEntry<C extends AdminCommand> {
  /** `help`: a line per form of the command, its syntax then what it does, tab-separated. */
  readonly help: readonly string[];
  /**
   * Whether this use of the command changes the server and is one of geartrain's own:
   * those answer only loopback peers unless `allowRemoteAdmin` (the port has no
   * authentication; the dashboard asks a token for the same). gearmand's own commands are
   * answered as gearmand answers them, from anyone.
   */
  readonly changes?: (command: C) => boolean;
  /** Runs it: the reply, or a Promise of it when it asks the job server. */
  readonly run: (context: AdminContext, command: C) => AdminReply;
}

/**
 * An admin command's reply: its text, or a Promise of it. Every command that reads or
 * changes the queue asks the job server, which answers with a Promise (decision 32); a
 * rejection is answered with an ERR (`errorReply`).
 */
export type AdminReply = string | Promise<string>;

type AdminTable = { readonly [N in CommandName]: AdminEntry<AdminCommandOf<N>> };

const always = (): boolean => true;
const withSettings = (command: { readonly settings: readonly string[] }): boolean =>
  command.settings.length > 0;

/**
 * The admin commands (reference §4.2, then geartrain's own), as `help` lists them: one
 * entry per parsed command. The parser (`parseAdminLine`, decision 6) gives each its name.
 */
export const ADMIN_COMMANDS: AdminTable = {
  status: { help: ['status\tfunctions: jobs queued or running, running, workers'], run: status },
  prioritystatus: {
    help: ['prioritystatus\tfunctions: queued jobs by priority (high, normal, low), workers'],
    run: priorityStatus,
  },
  workers: { help: ['workers\tconnections: number, address, client id : functions'], run: workers },
  'show jobs': {
    help: ['show jobs\tlive jobs: handle, retries, ignored, persisted'],
    run: showJobs,
  },
  'show unique jobs': {
    help: ['show unique jobs\tthe unique ids of live jobs'],
    run: showUniqueJobs,
  },
  'cancel job': {
    help: ['cancel job H\tremoves a live job; its clients are told it failed'],
    run: cancelJob,
  },
  'create function': {
    help: ['create function FN\tmakes a function known'],
    run: createFunction,
  },
  'drop function': {
    help: ['drop function FN\tforgets a function that has no workers and no jobs'],
    run: dropFunction,
  },
  maxqueue: {
    help: ['maxqueue FN [MAX | HIGH NORMAL [LOW]]\tqueue limits by priority (none or 0: no limit)'],
    run: maxQueue,
  },
  getpid: { help: ['getpid\tthe process id'], run: getPid },
  version: { help: ['version\tthe server version'], run: version },
  verbose: { help: ['verbose\tthe log level'], run: verbose },
  shutdown: {
    help: ['shutdown [graceful]\tstops the server, graceful: running jobs finish (loopback only)'],
    run: shutdown,
  },
  help: { help: ['help\tthis list'], run: () => listing(HELP) },
  'show job': {
    help: [
      'show job H\tone job, live or kept: state, function, priority, attempts, payload, errors',
    ],
    run: showJob,
  },
  'show outcomes': {
    help: [
      'show failed [FN]\tdead letters: handle, function, attempts, reason, end, last error',
      'show finished [FN]\tkept completed jobs: handle, function, attempts, end',
    ],
    run: showOutcomes,
  },
  'retry job': {
    help: ['retry job H\truns a dead letter again under its handle (loopback only)'],
    changes: always,
    run: retryJob,
  },
  'discard job': {
    help: ['discard job H\tforgets a kept outcome (loopback only)'],
    changes: always,
    run: discardJob,
  },
  'discard failed': {
    help: ['discard failed FN\tforgets the dead letters of a function (loopback only)'],
    changes: always,
    run: discardFailed,
  },
  policy: {
    help: [
      'policy FN\twhat a function retries and keeps (attempts=3,backoff=…,keep-failed=…)',
      'policy FN none|SETTINGS\tremoves or sets it (loopback only)',
    ],
    changes: withSettings,
    run: policy,
  },
  pause: {
    help: ['pause FN\tstops handing out the jobs of a function (loopback only)'],
    changes: always,
    run: pause,
  },
  resume: {
    help: ['resume FN\thands them out again (loopback only)'],
    changes: always,
    run: resume,
  },
  limit: {
    help: [
      'limit FN\thow fast and how many jobs of a function start',
      'limit FN none|rate=MAX/MS,concurrency=N\tremoves or sets it (loopback only)',
    ],
    changes: withSettings,
    run: limit,
  },
  'show functions': { help: ['show functions\tpaused and limited functions'], run: showFunctions },
  'show nodes': {
    help: [
      "show nodes\tthe queue's nodes: id, name, start, last heartbeat, running jobs, functions",
    ],
    run: showNodes,
  },
  'show schedules': {
    help: ['show schedules\tschedules: id, function, timing, zone, next and last tick'],
    run: showSchedules,
  },
  'schedule add': {
    help: [
      'schedule add ID FN SPEC\tdefines a schedule, SPEC URL-encoded: every=60000&priority=low (loopback only)',
    ],
    changes: always,
    run: scheduleAdd,
  },
  'schedule remove': {
    help: ['schedule remove ID\tremoves a schedule (loopback only)'],
    changes: always,
    run: scheduleRemove,
  },
};

/** What `help` prints, in the table's order. */
const HELP: readonly string[] = Object.values(ADMIN_COMMANDS).flatMap((entry) => entry.help);

/**
 * gearmand closes the connection on a line of more than five tokens without a reply, which
 * leaves an operator guessing (a cron expression's spaces make it easy to hit): an ERR, and
 * the connection goes on.
 */
const TOO_MANY_TOKENS = formatErr(
  `TOO_MANY_ARGUMENTS an+admin+line+takes+at+most+${MAX_ADMIN_TOKENS}+words:+URL-encode+the+spaces+inside+a+value`,
);

/**
 * One admin text command (reference §4.2): its reply, byte for byte as gearmand 1.1.20
 * writes it, or a Promise of it. Only an error other than a refused argument escapes (a
 * bug: the session drops the connection).
 */
function answer(context: AdminContext, line: string): AdminReply {
  const command = parseAdminLine(line);
  if (!Object.hasOwn(ADMIN_COMMANDS, command.name)) {
    return command.name === 'too many tokens' ? TOO_MANY_TOKENS : formatRejection(command)!;
  }
  // The table is typed per command; one looked up by a name of the union is not.
  const entry = ADMIN_COMMANDS[command.name as CommandName] as AdminEntry<AdminCommand>;
  if (
    entry.changes?.(command) &&
    !context.settings.allowRemoteAdmin &&
    !isLoopback(context.address)
  ) {
    return formatErr(
      `PERMISSION_DENIED ${plus(command.name)}+is+only+accepted+from+loopback;+allowRemoteAdmin:+true+(geartrain+serve+--allow-remote-admin)+accepts+it+from+other+hosts`,
    );
  }
  try {
    return entry.run(context, command);
  } catch (error) {
    // An argument the job server refuses (a NUL byte in a function name): ERR, and the
    // connection goes on. Anything else is a bug: the session drops the connection.
    if (!(error instanceof InvalidArgumentError)) throw error;
    return formatErr(`INVALID_ARGUMENTS ${plus(error.message)}`);
  }
}

/**
 * The admin commands of one connection, run one after another as gearmand runs them: a
 * command waits until the one before it has its answer, so that it sees what that one did
 * (`cancel job H` then `show jobs`, sent together, does not list H), and its reply
 * keeps its place among the connection's replies (a reserved slot) meanwhile, each reply
 * one write. A command with no earlier one waiting that answers at once (`version`,
 * `getpid`, a refusal) is sent at once.
 */
export class AdminCommands {
  /** Settles once the last command given has its answer queued; null when none waits. */
  private waiting: Promise<void> | null = null;

  constructor(private readonly context: AdminContext) {}

  execute(line: string): void {
    const output = this.context.output;
    if (this.waiting === null) {
      const reply = answer(this.context, line);
      if (typeof reply === 'string') output.sendText(reply);
      else this.answerLater(output.reserve(), reply);
    } else {
      this.answerLater(
        output.reserve(),
        this.waiting.then(() => answer(this.context, line)),
      );
    }
  }

  /**
   * Fills `slot` with the reply once it comes. A rejection is an ERR (`errorReply`): the job
   * server refused an argument, or its queue could not do it (a store, a backend).
   */
  private answerLater(slot: Slot, reply: Promise<string>): void {
    const answered = reply.then(
      (text) => slot.fill(text),
      (error: unknown) => slot.fill(errorReply(error)),
    );
    this.waiting = answered;
    void answered.then(() => {
      if (this.waiting === answered) this.waiting = null;
    });
  }
}
