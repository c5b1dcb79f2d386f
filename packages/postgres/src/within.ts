import { InvalidArgumentError, QueueFullError } from '@geartrain/core';
import type { SharedSubmission, SubmitAnswer } from '@geartrain/core/transport';
import type { Notice } from './notifier.js';
import { handleOf, priorityNumber } from './rows.js';
import type { Statement } from './connections.js';

/**
 * What the submit statement takes for a batch: its arrays; for one with foreground
 * submissions (`submitStatement(s, true)`), then whether each job is only foreground
 * (`only[i]`), this node, and whether it waits for it (`watch[i]`: a foreground submission
 * among those sent as `sent[i]`).
 */
export function submitValues(
  sent: readonly SharedSubmission[],
  foreground?: {
    readonly node: string;
    readonly watch: readonly boolean[];
    readonly only: readonly boolean[];
  },
): unknown[] {
  const values: unknown[] = [
    sent.map((s) => s.functionName),
    sent.map((s) => s.payload),
    sent.map((s) => (s.unique === '' ? null : s.unique)),
    sent.map((s) => priorityNumber(s.priority)),
    sent.map((s) => s.delay),
    sent.map((s) => s.reducer),
    sent.map((s) => (s.retry === null ? null : JSON.stringify(s.retry))),
  ];
  if (foreground !== undefined) values.push(foreground.only, foreground.node, foreground.watch);
  return values;
}

/**
 * A node's batch as the submit statement takes it: submissions of one (function, unique id)
 * coalesce onto the first, which alone is sent (`slots[i]`: the index sent for `batch[i]`,
 * or `-1 - index` for one coalesced in the batch); this node waits for the job if any was
 * foreground (`watch`), and it stays foreground if all were.
 */
export function groupSubmissions(batch: readonly SharedSubmission[]) {
  const first = new Map<string, number>();
  const sent: SharedSubmission[] = [];
  const watch: boolean[] = [];
  const foreground: boolean[] = [];
  const slots: number[] = [];
  for (const s of batch) {
    const key = s.unique === '' ? null : `${s.functionName}\0${s.unique}`;
    const known = key === null ? undefined : first.get(key);
    const fg = s.foreground === true;
    if (known !== undefined) {
      slots.push(-1 - known);
      watch[known] ||= fg;
      foreground[known] &&= fg;
      continue;
    }
    if (key !== null) first.set(key, sent.length);
    slots.push(sent.length);
    sent.push(s);
    watch.push(fg);
    foreground.push(fg);
  }
  return { sent, watch, foreground, slots };
}

/** The part of a node-postgres client (`pg.Client`, a pool's client) the queue uses. */
interface Queryable {
  query(config: { text: string; values: unknown[] }): Promise<{ rows: unknown[] }>;
}

function isQueryable(value: unknown): value is Queryable {
  return (
    typeof value === 'object' &&
    value !== null &&
    typeof (value as { query?: unknown }).query === 'function'
  );
}

/**
 * A background submission in the application's own transaction, on its client: the submit
 * statement, then a NOTIFY of the queue's channel in the same transaction — PostgreSQL
 * delivers it at the commit and drops it with a rollback, so workers are woken exactly when
 * the job comes to exist. The notice names no sender: the submitting node wakes its own
 * workers by it too (its own notices it otherwise ignores, having woken them at once).
 */
export async function submitWithin(
  transaction: unknown,
  submission: SharedSubmission,
  queue: { readonly submit: Statement; readonly channel: string; readonly cluster: string },
): Promise<SubmitAnswer> {
  if (!isQueryable(transaction)) {
    throw new InvalidArgumentError(
      'transaction must be a node-postgres client (pg.Client, or a pool client) on which a ' +
        'transaction was begun',
    );
  }
  const { rows } = await transaction.query({
    text: queue.submit.text,
    values: submitValues([submission]),
  });
  const row = rows[0] as { id: string; coalesced: boolean } | undefined;
  // No answer row: refused by the function's queue limits.
  if (row === undefined) return { error: new QueueFullError(submission.functionName) };
  if (!row.coalesced) {
    const name = submission.functionName;
    const notice: Notice =
      submission.delay > 0 ? { n: '', d: { [name]: submission.delay } } : { n: '', f: [name] };
    await transaction.query({
      text: 'SELECT pg_notify($1, $2)',
      values: [queue.channel, JSON.stringify(notice)],
    });
  }
  return { handle: handleOf(queue.cluster, row.id), coalesced: row.coalesced };
}
