import assert from 'node:assert/strict';
import type {
  ClientOptions,
  InProcessClient,
  InProcessWorker,
  JobContext,
  JobEvent,
  JobServer,
  JobServerOptions,
  JobStatus,
  RegisterOptions,
  SubmitOptions,
  SubmittedJob,
} from '@geartrain/core';
import type { Subscription } from 'rxjs';

// What every case of the queue behaviour suite stands on: the servers of one case, their
// events, workers that record or hold their jobs, and waits that fail with a message saying
// what was awaited. Nothing here reads a queue's state behind the public API, and nothing
// sleeps: a wait is re-checked whenever something happens (an event, a handler called).

/** A server of the queue under test, fresh and empty; `options` are the suite's own. */
export type MakeServer = (options?: JobServerOptions) => JobServer | Promise<JobServer>;

/** Another server on the same queue as `server`. */
export type MakePeer = (
  server: JobServer,
  options?: JobServerOptions,
) => JobServer | Promise<JobServer>;

/** Registers one case: `body` runs on a new {@link Case}, closed after it. */
export type Define = (title: string, body: (c: Case) => Promise<void>) => unknown;

/** How the cases reach the queue under test. */
export interface Setup {
  readonly makeServer: MakeServer;
  readonly makePeer: MakePeer | undefined;
  readonly reopen: MakePeer | undefined;
  /** ms any one wait may take before the case fails. */
  readonly deadline: number;
}

/**
 * The answer of a server's query or control method, whether the method answers at once (the
 * local queue today) or with a Promise (a shared queue, after a round trip). The suite
 * awaits every such call through it, so that it runs unchanged on both.
 */
export async function ask<T>(answer: T | PromiseLike<T>): Promise<T> {
  return await answer;
}

/** The four fields of a status answer (GET_STATUS), whatever else it carries. */
export function statusOf(answer: JobStatus): JobStatus {
  const { known, running, numerator, denominator } = answer;
  return { known, running, numerator, denominator };
}

type RawConnection = ReturnType<JobServer['connect']>;
type Assignment = NonNullable<ReturnType<RawConnection['grab']>>;

/** An event of one type. */
export type EventOf<T extends JobEvent['type']> = Extract<JobEvent, { type: T }>;

/** A job a holding worker was given, running until the case ends it. */
export interface HeldJob {
  readonly job: JobContext;
  /** `Date.now()` when the handler was called. */
  readonly at: number;
  /** Whether its AbortSignal fired (cancel, timeout, a worker or server stopping). */
  aborted: boolean;
  /** Whether the case ended it (or its signal fired). */
  done: boolean;
  /** Jobs of the same `holding` list not yet ended when this one started, itself included. */
  readonly runningAtStart: number;
  complete(result?: string): void;
  fail(error: Error): void;
}

/** One server of a case, with every event it emitted since the case made it. */
export class Node {
  readonly events: JobEvent[] = [];
  private readonly subscription: Subscription;

  constructor(
    readonly server: JobServer,
    readonly name: string,
    private readonly kase: Case,
  ) {
    this.subscription = server.events$.subscribe((event) => {
      this.events.push(event);
      kase.poke();
    });
  }

  /** Events of one type (of one job, given its handle), in order. */
  eventsOf<T extends JobEvent['type']>(type: T, handle?: string): EventOf<T>[] {
    return this.events.filter(
      (e): e is EventOf<T> =>
        e.type === type && (handle === undefined || ('handle' in e && e.handle === handle)),
    );
  }

  /** Waits for the `count`th event of a type (of one job, given its handle). */
  async event<T extends JobEvent['type']>(
    type: T,
    handle?: string,
    count = 1,
  ): Promise<EventOf<T>> {
    const what = `${count > 1 ? `${count} ` : ''}'${type}' event${count > 1 ? 's' : ''}${
      handle === undefined ? '' : ` of ${handle}`
    } on ${this.name}`;
    await this.kase.until(() => this.eventsOf(type, handle).length >= count, what);
    return this.eventsOf(type, handle)[count - 1]!;
  }

  /** A client, closed at the end of the case. */
  client(options?: ClientOptions): InProcessClient {
    const client = this.server.client(options);
    this.kase.onEnd(() => client.close());
    return client;
  }

  /** A worker, stopped at the end of the case. */
  worker(): InProcessWorker {
    const worker = this.server.worker();
    this.kase.onEnd(() => worker.stop({ timeout: 0 }));
    return worker;
  }

  private submitter: InProcessClient | null = null;

  /** Submits a background job; resolves once the queue accepted it. */
  background(
    functionName: string,
    payload = '',
    options: SubmitOptions = {},
  ): Promise<SubmittedJob> {
    this.submitter ??= this.client();
    return this.submitter.submit(functionName, payload, { ...options, background: true });
  }

  /**
   * A worker whose handler records each job it is given (in `jobs`) and answers with
   * `handler` (default: the payload as the result).
   */
  recording(
    functionName: string,
    handler: (job: JobContext) => unknown = (job) => job.text(),
    options: RegisterOptions = {},
  ): { worker: InProcessWorker; jobs: { job: JobContext; at: number }[] } {
    const jobs: { job: JobContext; at: number }[] = [];
    const worker = this.worker().register(
      functionName,
      (job) => {
        jobs.push({ job, at: Date.now() });
        this.kase.poke();
        return handler(job);
      },
      options,
    );
    return { worker, jobs };
  }

  /**
   * A worker that holds each job it is given (in `jobs`) until the case ends it. Several
   * workers may share one `jobs` list (their jobs are then counted together).
   */
  holding(
    functionName: string,
    options: RegisterOptions = {},
    jobs: HeldJob[] = [],
  ): { worker: InProcessWorker; jobs: HeldJob[] } {
    const worker = this.worker().register(
      functionName,
      (job) =>
        new Promise((resolve, reject) => {
          const held: HeldJob = {
            job,
            at: Date.now(),
            aborted: false,
            done: false,
            runningAtStart: jobs.filter((j) => !j.done).length + 1,
            complete: (result = '') => {
              held.done = true;
              resolve(result);
            },
            fail: (error) => {
              held.done = true;
              reject(error);
            },
          };
          // Aborted, the job's outcome is the server's: what the handler returns is dropped.
          job.signal.addEventListener('abort', () => {
            held.aborted = held.done = true;
            resolve('');
            this.kase.poke();
          });
          jobs.push(held);
          this.kase.poke();
        }),
      options,
    );
    // Jobs still held when the case ends are let go first, so that no close waits for them.
    this.kase.onEnd(() => {
      for (const held of jobs) if (!held.done) held.complete();
    });
    return { worker, jobs };
  }

  /**
   * A bare worker connection (as a Gearman worker over TCP has) that takes one job of
   * `functionName` and holds it, saying nothing: the case then closes it to lose the job.
   */
  async takeRaw(functionName: string): Promise<{ connection: RawConnection; job: Assignment }> {
    let job: Assignment | undefined;
    const take = () => {
      if (job !== undefined || connection.closed) return;
      job = connection.grab();
      if (job !== undefined) this.kase.poke();
      else connection.preSleep(); // NOOP (wake) when there is work: then grab again
    };
    const connection = this.server.connect({
      // The server is mid-operation when it wakes a sleeper: grab after it (ConnectionSink).
      sink: { wake: () => queueMicrotask(take) },
    });
    this.kase.onEnd(() => connection.close());
    connection.canDo(functionName);
    take();
    await this.kase.until(
      () => job !== undefined,
      `a bare worker connection on ${this.name} to take a job of ${functionName}`,
    );
    return { connection, job: job! };
  }

  stop(): void {
    this.subscription.unsubscribe();
  }
}

interface Wait {
  check(): void;
  /** Abandons the wait: its timer is cleared, its promise left pending. */
  cancel(): void;
}

/** One case: its servers, its waits, and what is to be closed when it ends. */
export class Case {
  private readonly waits = new Set<Wait>();
  private readonly cleanups: (() => unknown)[] = [];
  private readonly nodes: Node[] = [];

  constructor(private readonly setup: Setup) {}

  /** A fresh server of the queue under test. */
  async server(options?: JobServerOptions): Promise<Node> {
    return this.node(await this.setup.makeServer(options), 'the server');
  }

  /** Another node on the same queue as `of` (cross-node cases only). */
  async peer(of: Node, options?: JobServerOptions): Promise<Node> {
    const makePeer = this.setup.makePeer;
    assert.ok(makePeer !== undefined, 'a cross-node case needs makePeer');
    return this.node(await makePeer(of.server, options), `node ${this.nodes.length + 1}`);
  }

  /** A server on the queue that `closed` left (durable queues only). */
  async reopen(closed: Node, options?: JobServerOptions): Promise<Node> {
    const reopen = this.setup.reopen;
    assert.ok(reopen !== undefined, 'a durable case needs reopen');
    return this.node(await reopen(closed.server, options), 'the reopened server');
  }

  private async node(server: JobServer, name: string): Promise<Node> {
    const node = new Node(server, name, this);
    this.nodes.push(node);
    this.onEnd(() => server.close({ timeout: 0 }));
    await server.ready;
    return node;
  }

  /** Adds what the end of the case closes (in reverse order of adding). */
  onEnd(cleanup: () => unknown): void {
    this.cleanups.push(cleanup);
  }

  /** Re-checks every wait: something happened. */
  poke(): void {
    for (const wait of [...this.waits]) wait.check();
  }

  /**
   * Waits until `done()` holds, re-checked whenever something happens in the case; fails
   * after the deadline saying what it waited for (`what`, or what `what()` says then).
   */
  until(
    done: () => boolean,
    what: string | (() => string),
    ms = this.setup.deadline,
  ): Promise<void> {
    if (done()) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const end = () => {
        clearTimeout(timer);
        this.waits.delete(wait);
      };
      const wait: Wait = {
        cancel: () => end(),
        check: () => {
          let ok: boolean;
          try {
            ok = done();
          } catch (error) {
            end();
            reject(error instanceof Error ? error : new Error(String(error)));
            return;
          }
          if (ok) {
            end();
            resolve();
          }
        },
      };
      const timer = setTimeout(() => {
        end();
        const said = typeof what === 'string' ? what : what();
        reject(
          new assert.AssertionError({ message: `timed out after ${ms} ms waiting for ${said}` }),
        );
      }, ms);
      this.waits.add(wait);
    });
  }

  /** A promise's value, or a failure saying what did not happen before the deadline. */
  async within<T>(promise: Promise<T>, what: string, ms = this.setup.deadline): Promise<T> {
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () =>
          reject(
            new assert.AssertionError({ message: `timed out after ${ms} ms waiting for ${what}` }),
          ),
        ms,
      );
    });
    try {
      return await Promise.race([promise, deadline]);
    } finally {
      clearTimeout(timer);
    }
  }

  /** How a promise rejects (failing the case if it resolves, or not before the deadline). */
  async rejection(promise: Promise<unknown>, what: string): Promise<unknown> {
    const settled = await this.within(
      promise.then(
        (value) => ({ ok: true as const, value }),
        (error: unknown) => ({ ok: false as const, error }),
      ),
      what,
    );
    if (settled.ok)
      assert.fail(`expected ${what} to reject; it resolved with ${String(settled.value)}`);
    return settled.error;
  }

  /** Closes every worker, client and server of the case, newest first. */
  async end(): Promise<void> {
    for (const wait of [...this.waits]) wait.cancel();
    const errors: unknown[] = [];
    for (const cleanup of this.cleanups.splice(0).reverse()) {
      try {
        await cleanup();
      } catch (error) {
        errors.push(error);
      }
    }
    for (const node of this.nodes) node.stop();
    if (errors.length > 0) throw errors[0];
  }
}
