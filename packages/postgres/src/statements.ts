import { createHash } from 'node:crypto';
import pg from 'pg';
import {
  claimLimitedSteps,
  claimStatement,
  completeStatement,
  dropUnwatchedStatement,
  forgetWatchersStatement,
  progressStatement,
  pruneUpdatesStatement,
  relayStatement,
  reportStatement,
  submitStatement,
  unwatchStatement,
  updatesStatement,
} from './sql-jobs.js';
import {
  heartbeatStatement,
  leaveStatement,
  nodesStatement,
  registerStatement,
} from './sql-nodes.js';
import {
  defineScheduleStatement,
  notifyStatement,
  removeScheduleStatement,
  retentionStatement,
  saveSettingsStatement,
  schedulesStatement,
  settingsStatement,
  tickStatement,
} from './sql-settings.js';
import {
  cancelStatement,
  discardFailedStatement,
  discardStatement,
  functionsStatement,
  jobsStatement,
  jobStatement,
  outcomeCountStatement,
  outcomesStatement,
  outcomeStatement,
  resubmitStatement,
  statusByUniqueStatement,
  statusStatement,
} from './sql-views.js';

/** Every statement of the queue, made once for its schema. */
export function statementsOf(schema: string) {
  const s = pg.escapeIdentifier(schema);
  const limited = claimLimitedSteps(s);
  return {
    submit: submitStatement(s, false),
    submitForeground: submitStatement(s, true),
    claim: claimStatement(s),
    limitLock: limited.lock,
    claimLimited: limited.claim,
    report: reportStatement(s),
    complete: completeStatement(s),
    progress: progressStatement(s),
    relay: relayStatement(s),
    unwatch: unwatchStatement(s),
    dropUnwatched: dropUnwatchedStatement(s),
    forgetWatchers: forgetWatchersStatement(s),
    updates: updatesStatement(s),
    pruneUpdates: pruneUpdatesStatement(s),
    register: registerStatement(s),
    heartbeat: heartbeatStatement(s),
    leave: leaveStatement(s),
    nodes: nodesStatement(s),
    status: statusStatement(s),
    statusByUnique: statusByUniqueStatement(s),
    functions: functionsStatement(s),
    jobs: {
      queued: jobsStatement(s, 'queued'),
      delayed: jobsStatement(s, 'delayed'),
      running: jobsStatement(s, 'running'),
      all: jobsStatement(s, 'all'),
    },
    job: jobStatement(s),
    outcome: outcomeStatement(s),
    outcomes: outcomesStatement(s),
    outcomeCount: outcomeCountStatement(s),
    cancel: cancelStatement(s),
    resubmit: resubmitStatement(s),
    discard: discardStatement(s),
    discardFailed: discardFailedStatement(s),
    saveSettings: saveSettingsStatement(s),
    settings: settingsStatement(s),
    defineSchedule: defineScheduleStatement(s),
    removeSchedule: removeScheduleStatement(s),
    schedules: schedulesStatement(s),
    tick: tickStatement(s),
    retention: retentionStatement(s),
    notify: notifyStatement(),
  };
}

export type Statements = ReturnType<typeof statementsOf>;

/** Keys derived from the schema's name: its advisory-lock space and its NOTIFY channel. */
export function keysOf(schema: string): { lockSpace: number; channel: string } {
  const digest = createHash('sha1').update(`geartrain:${schema}`).digest();
  return {
    // A positive int4: the first key of every session lock of the schema's nodes.
    lockSpace: digest.readUInt32BE(0) & 0x7fffffff,
    // A channel name is an identifier: at most 63 bytes, whatever the schema's name.
    channel: `geartrain_${digest.subarray(4, 12).toString('hex')}`,
  };
}
