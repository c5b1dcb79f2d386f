// A report's answer forgets only the attempt it reported: a job given back by attempt N's
// report may be claimed again (attempt N + 1) while that report waits for the database;
// N's answer must leave N + 1's entry alone, or N + 1's report is taken for stale, never
// written, and the job stays running in the database for good. No database: the host's
// connections are a double whose answers the test gives, one statement at a time.
import { describe, expect, it } from 'vitest';
import type { AttemptReport, ReportOutcome } from '@geartrain/core/transport';
import { Attempts, type AttemptsHost, type Row } from '../src/attempts.js';
import type { ClaimRow } from '../src/claims.js';
import type { Connections, Statement } from '../src/connections.js';
import { settingsOf } from '../src/options.js';
import { statementsOf } from '../src/statements.js';

/** One statement sent to the double, answered when the test says so. */
interface Sent {
  readonly statement: Statement;
  readonly values: readonly unknown[];
  answer(rows: { id: string }[]): void;
}

/** A host whose `db().query` records each statement and waits for the test's answer. */
function hostDouble(): { host: AttemptsHost; sent: Sent[]; ended: Row[] } {
  const sent: Sent[] = [];
  const ended: Row[] = [];
  const connections = {
    query: (statement: Statement, values: readonly unknown[] = []) =>
      new Promise<{ id: string }[]>((resolve) => sent.push({ statement, values, answer: resolve })),
  } as unknown as Connections;
  const host: AttemptsHost = {
    st: statementsOf('geartrain'),
    settings: settingsOf(),
    db: () => connections,
    cluster: () => 'c1',
    node: () => 'node-1',
    kept: () => undefined,
    ended: (rows) => void ended.push(...rows),
    revoked: () => undefined,
    updated: () => undefined,
    abandoned: () => undefined,
    event: () => undefined,
    log: (error) => {
      throw error;
    },
  };
  return { host, sent, ended };
}

/** Job 7 as the claim statement returns it, at its `attempts`-th attempt (3 allowed). */
function claimRow(attempts: number): ClaimRow {
  return {
    kind: 'j',
    id: '7',
    fn: 'resize',
    unique_key: null,
    payload: Buffer.from('p'),
    priority: 1,
    reducer: '',
    attempts,
    retry: { attempts: 3, backoff: 0 },
    policy: null,
    limited: false,
    watched: false,
    relayed: false,
    due: null,
    starts: null,
    rate_max: null,
    rate_ms: null,
    now_ms: null,
    run_at: null,
  };
}

describe('@geartrain/postgres attempts held across a report on its way', () => {
  it('keeps the next attempt, claimed while the retried one was reported, reportable', async () => {
    const { host, sent, ended } = hostDouble();
    const attempts = new Attempts(host);
    const first = attempts.claimed(claimRow(1));
    expect(first.attempt).toBe(1);
    const handle = first.handle;

    const failure: AttemptReport = {
      handle,
      attempt: 1,
      end: { kind: 'exception', data: Buffer.from('x'), thrown: null },
    };
    const retried = attempts.report([failure]);
    // The statement goes out at once; its answer has not come back.
    expect(sent).toHaveLength(1);
    expect(sent[0]!.statement).toBe(host.st.report);
    expect(sent[0]!.values[0]).toEqual(['7']);
    expect(sent[0]!.values[1]).toEqual([1]);
    expect(sent[0]!.values[2]).toEqual(['q']);

    // The job is back in the queue: this node claims its next attempt meanwhile.
    const second = attempts.claimed(claimRow(2));
    expect(second.handle).toBe(handle);
    expect(second.attempt).toBe(2);

    // Attempt 1's answer: its write matched (no id missed).
    sent[0]!.answer([]);
    const retriedOutcome: readonly ReportOutcome[] = await retried;
    expect(retriedOutcome).toEqual([
      { state: 'retrying', attempt: 1, reason: 'EXCEPTION', delay: 0 },
    ]);

    // Attempt 2 completes: it is still held, so its report is written, not taken for stale.
    const completion = attempts.report([
      { handle, attempt: 2, end: { kind: 'complete', data: Buffer.from('r') } },
    ]);
    expect(sent).toHaveLength(2);
    expect([host.st.complete, host.st.report]).toContain(sent[1]!.statement);
    expect(sent[1]!.values[0]).toEqual(['7']);
    expect(sent[1]!.values[1]).toEqual([2]);
    sent[1]!.answer([]);
    expect(await completion).toEqual([{ state: 'completed' }]);
    expect(attempts.stats.stale).toBe(0);
    expect(ended.map((row) => row.held.attempt)).toEqual([1, 2]);

    // The counterpart: attempt 1 reported again is stale, and sends nothing.
    const again = await attempts.report([failure]);
    expect(again).toEqual([{ state: 'stale' }]);
    expect(sent).toHaveLength(2);
    expect(attempts.stats.stale).toBe(1);
  });
});
