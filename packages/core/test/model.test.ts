import fc from 'fast-check';
import { VirtualTimeScheduler } from 'rxjs';
import { describe, expect, it } from 'vitest';
import type { JobServer, JobUpdate, Priority } from '../src/index.js';
import type { Connection } from '../src/transport.js';
import { assigned, queueKind, runClockTo, server, settled } from './helpers.js';

/**
 * Model-based test: random sequences of submissions, grabs, results, PRE_SLEEP, workers
 * that stop answering, worker and client disconnects, cancels, pausing and resuming a
 * function and the passing of time run
 * against the server and against a small reference model; the invariants are checked after
 * every step. A worker that answers does what libgearman's loop does when woken: it grabs,
 * and sleeps again when there is nothing (it answers within the step).
 *
 * It runs on the local queue and on a shared queue (vitest.config.ts, core-shared): each
 * command's answers are awaited, and the queue has answered what the command set off
 * before woken workers answer and the invariants are read. The rules of the model that
 * follow the queue (decisions 33 and 36; every other invariant is the same):
 */

/**
 * A shared queue shows a job it claimed for this node's workers as running before a worker
 * here starts it: a job the model has queued may be listed as running (never the reverse).
 * It keeps a foreground job a background submission joined when its clients leave (the
 * background submission was acknowledged; decision 36), where the local queue drops it as
 * gearmand does; and it counts the nodes whose clients wait for a job, not the submissions.
 */
const SHARED = queueKind === 'shared';

const FUNCTIONS = ['f', 'g'] as const;
const WORKER_FUNCTIONS: readonly (readonly string[])[] = [['f'], ['g'], ['f', 'g']];
const MAX_RETRIES = 1;
/** The server's wakeTimeout: the longest a job may wait while an answering worker sleeps. */
const WAKE_TIMEOUT = 100;
const RANK: Record<Priority, number> = { high: 0, normal: 1, low: 2 };

interface ModelJob {
  handle: string;
  fn: string;
  unique: string;
  background: boolean;
  priority: Priority;
  state: 'queued' | 'running';
  holder: number | null;
  retries: number;
  /** Submissions attached (ids into `finals`). */
  attached: number[];
  /** When it last became runnable (virtual ms). */
  queuedSince: number;
}

interface Model {
  jobs: Map<string, ModelJob>;
  /** Per submission: how many final updates it must have received. */
  expectedFinals: number[];
  /** Per submission: the client slot it came from. */
  submissionClient: number[];
  /** Per worker slot: whether it answers wakes (a hung worker holds its socket open). */
  responsive: boolean[];
  /** Functions paused now: none of their jobs is handed out. */
  paused: Set<string>;
}

interface Real {
  s: JobServer;
  clients: Connection[];
  workers: Connection[];
  /** Final updates received per submission. */
  finals: number[];
  /** Running jobs per worker slot, in grab order. */
  held: string[][];
  clock: VirtualTimeScheduler;
  /** Per worker slot: sent PRE_SLEEP and not woken since. */
  asleep: boolean[];
  /** Worker slots woken during the step, answered at its end. */
  woken: number[];
}

function isFinal(update: JobUpdate): boolean {
  return update.type === 'complete' || update.type === 'fail' || update.type === 'exception';
}

/** Ends a job in the model: every attached submission expects one final update. */
function endInModel(model: Model, job: ModelJob): void {
  for (const id of job.attached) model.expectedFinals[id] = 1;
  model.jobs.delete(job.handle);
}

function newWorker(real: Real, slot: number): void {
  const connection = real.s.connect({
    sink: {
      wake: () => {
        real.asleep[slot] = false;
        real.woken.push(slot);
      },
    },
  });
  for (const fn of WORKER_FUNCTIONS[slot]!) connection.canDo(fn);
  real.workers[slot] = connection;
  real.held[slot] = [];
  real.asleep[slot] = false;
}

function preSleep(real: Real, slot: number): void {
  real.asleep[slot] = true;
  real.workers[slot]!.preSleep();
}

/** The woken workers that answer grab, and sleep again when they got nothing. */
async function answerWakes(model: Model, real: Real): Promise<void> {
  for (let step = 0; step < 100 && real.woken.length > 0; step++) {
    const slot = real.woken.shift()!;
    if (!model.responsive[slot] || real.asleep[slot]) continue;
    if (!(await new Grab(slot).take(model, real))) preSleep(real, slot);
    await settled();
  }
  expect(real.woken.filter((slot) => model.responsive[slot])).toEqual([]);
}

class Submit implements fc.AsyncCommand<Model, Real> {
  constructor(
    readonly client: number,
    readonly fn: string,
    readonly unique: string,
    readonly background: boolean,
    readonly priority: Priority,
  ) {}
  check(): boolean {
    return true;
  }
  async run(model: Model, real: Real): Promise<void> {
    const id = real.finals.length;
    real.finals.push(0);
    model.expectedFinals.push(0);
    model.submissionClient.push(this.client);
    const listener = {
      exceptions: false,
      update: (_h: string, u: JobUpdate) => {
        if (isFinal(u)) real.finals[id]!++;
      },
    };
    const outcome = await real.clients[this.client]!.submit(
      {
        functionName: this.fn,
        unique: this.unique,
        background: this.background,
        priority: this.priority,
      },
      this.background ? undefined : listener,
    );
    const existing =
      this.unique === ''
        ? undefined
        : [...model.jobs.values()].find((j) => j.fn === this.fn && j.unique === this.unique);
    if (existing !== undefined) {
      // Invariant: a unique id coalesces onto the live job.
      expect(outcome).toEqual({ handle: existing.handle, coalesced: true });
      if (!this.background) existing.attached.push(id);
      else if (SHARED) existing.background = true;
      return;
    }
    expect(outcome.coalesced).toBe(false);
    expect(model.jobs.has(outcome.handle)).toBe(false);
    model.jobs.set(outcome.handle, {
      handle: outcome.handle,
      fn: this.fn,
      unique: this.unique,
      background: this.background,
      priority: this.priority,
      state: 'queued',
      holder: null,
      retries: 0,
      attached: this.background ? [] : [id],
      queuedSince: real.clock.now(),
    });
  }
  toString(): string {
    return `submit(c${this.client},${this.fn},${this.unique || '∅'},${this.background ? 'bg' : 'fg'},${this.priority})`;
  }
}

class Grab implements fc.AsyncCommand<Model, Real> {
  constructor(readonly worker: number) {}
  check(model: Model): boolean {
    return model.responsive[this.worker]!;
  }
  async run(model: Model, real: Real): Promise<void> {
    await this.take(model, real);
  }
  /** Returns whether the worker got a job. */
  async take(model: Model, real: Real): Promise<boolean> {
    const fns = WORKER_FUNCTIONS[this.worker]!;
    const eligible = [...model.jobs.values()].filter(
      (j) => j.state === 'queued' && fns.includes(j.fn) && !model.paused.has(j.fn),
    );
    const assignment = await assigned(real.workers[this.worker]!);
    real.asleep[this.worker] = false; // a worker that asks for work is awake
    if (eligible.length === 0) {
      expect(assignment).toBeUndefined();
      return false;
    }
    expect(assignment).toBeDefined();
    const job = model.jobs.get(assignment!.handle)!;
    // The job was queued for one of this worker's functions, at the best priority available.
    expect(job.state).toBe('queued');
    expect(fns).toContain(job.fn);
    // Never a job of a paused function.
    expect(model.paused.has(job.fn)).toBe(false);
    expect(RANK[job.priority]).toBe(Math.min(...eligible.map((j) => RANK[j.priority])));
    expect(assignment!.attempt).toBe(job.retries + 1);
    job.state = 'running';
    job.holder = this.worker;
    real.held[this.worker]!.push(job.handle);
    return true;
  }
  toString(): string {
    return `grab(w${this.worker})`;
  }
}

class Finish implements fc.Command<Model, Real> {
  constructor(
    readonly worker: number,
    readonly how: 'complete' | 'fail' | 'exception',
  ) {}
  check(model: Model): boolean {
    return (
      model.responsive[this.worker]! &&
      [...model.jobs.values()].some((j) => j.holder === this.worker)
    );
  }
  run(model: Model, real: Real): void {
    const handle = real.held[this.worker]!.shift()!;
    const connection = real.workers[this.worker]!;
    if (this.how === 'complete') connection.workComplete(handle, 'r');
    else if (this.how === 'fail') connection.workFail(handle);
    else connection.workException(handle, 'e');
    endInModel(model, model.jobs.get(handle)!);
  }
  toString(): string {
    return `${this.how}(w${this.worker})`;
  }
}

class WorkerDies implements fc.Command<Model, Real> {
  constructor(readonly worker: number) {}
  check(): boolean {
    return true;
  }
  run(model: Model, real: Real): void {
    real.workers[this.worker]!.close();
    for (const job of [...model.jobs.values()]) {
      if (job.holder !== this.worker) continue;
      job.retries++;
      if (job.retries > MAX_RETRIES) endInModel(model, job);
      else if (!job.background && job.attached.length === 0) model.jobs.delete(job.handle);
      else {
        job.state = 'queued';
        job.holder = null;
        job.queuedSince = real.clock.now();
      }
    }
    newWorker(real, this.worker);
    model.responsive[this.worker] = true;
  }
  toString(): string {
    return `dies(w${this.worker})`;
  }
}

class ClientLeaves implements fc.Command<Model, Real> {
  constructor(readonly client: number) {}
  check(): boolean {
    return true;
  }
  run(model: Model, real: Real): void {
    real.clients[this.client]!.close();
    real.clients[this.client] = real.s.connect();
    for (const job of [...model.jobs.values()]) {
      job.attached = job.attached.filter((id) => model.submissionClient[id] !== this.client);
      // A queued foreground job nobody waits for is dropped.
      if (!job.background && job.attached.length === 0 && job.state === 'queued') {
        model.jobs.delete(job.handle);
      }
    }
  }
  toString(): string {
    return `leaves(c${this.client})`;
  }
}

class Cancel implements fc.AsyncCommand<Model, Real> {
  constructor(readonly pick: number) {}
  check(model: Model): boolean {
    return model.jobs.size > 0;
  }
  async run(model: Model, real: Real): Promise<void> {
    const jobs = [...model.jobs.values()];
    const job = jobs[this.pick % jobs.length]!;
    expect(await real.s.cancel(job.handle)).toBe(true);
    if (job.holder !== null) {
      const held = real.held[job.holder]!;
      held.splice(held.indexOf(job.handle), 1);
    }
    endInModel(model, job);
  }
  toString(): string {
    return `cancel(#${this.pick})`;
  }
}

/** PRE_SLEEP from a worker that answers. */
class Sleep implements fc.Command<Model, Real> {
  constructor(readonly worker: number) {}
  check(model: Model): boolean {
    return model.responsive[this.worker]!;
  }
  run(_model: Model, real: Real): void {
    preSleep(real, this.worker);
  }
  toString(): string {
    return `sleep(w${this.worker})`;
  }
}

/** The worker stops reading its socket: it ignores wakes and never reports again. */
class Hang implements fc.Command<Model, Real> {
  constructor(readonly worker: number) {}
  check(model: Model): boolean {
    return model.responsive[this.worker]!;
  }
  run(model: Model): void {
    model.responsive[this.worker] = false;
  }
  toString(): string {
    return `hang(w${this.worker})`;
  }
}

/** Pauses or resumes a function; jobs running at the pause go on. */
class PauseOrResume implements fc.AsyncCommand<Model, Real> {
  constructor(
    readonly fn: string,
    readonly pause: boolean,
  ) {}
  check(model: Model): boolean {
    return model.paused.has(this.fn) !== this.pause;
  }
  async run(model: Model, real: Real): Promise<void> {
    // In force at once (the Promise only says the store has it; there is none here): read
    // before the change's Promise is awaited.
    const changed = this.pause ? real.s.pause(this.fn) : real.s.resume(this.fn);
    const paused = real.s.paused(this.fn);
    await changed;
    expect(await paused).toBe(this.pause);
    if (this.pause) {
      model.paused.add(this.fn);
      return;
    }
    model.paused.delete(this.fn);
    // Its queued jobs may start from now: the wake bound counts from the resume.
    for (const job of model.jobs.values()) {
      if (job.fn === this.fn && job.state === 'queued') job.queuedSince = real.clock.now();
    }
  }
  toString(): string {
    return `${this.pause ? 'pause' : 'resume'}(${this.fn})`;
  }
}

class Advance implements fc.AsyncCommand<Model, Real> {
  constructor(readonly ms: number) {}
  check(): boolean {
    return true;
  }
  async run(_model: Model, real: Real): Promise<void> {
    await runClockTo(real.clock, real.clock.now() + this.ms);
  }
  toString(): string {
    return `advance(${this.ms})`;
  }
}

/** The invariants, checked after every command. */
async function checkInvariants(model: Model, real: Real): Promise<void> {
  const live = await real.s.jobs();
  // No accepted job lost, none invented: the server's live jobs are the model's.
  expect(live.map((j) => j.handle).sort()).toEqual([...model.jobs.keys()].sort());
  // Every job's answers asked at once (a shared queue answers them in one turn).
  const answers = await Promise.all(
    live.map((info) => {
      const job = model.jobs.get(info.handle)!;
      return Promise.all([
        real.s.status(info.handle),
        job.unique === '' ? undefined : real.s.statusByUnique(job.unique, job.fn),
      ]);
    }),
  );
  for (const [i, info] of live.entries()) {
    const job = model.jobs.get(info.handle)!;
    const [status, answer] = answers[i]!;
    // Status consistent with the model; a running job has exactly one holder.
    const claimed = SHARED && job.state === 'queued';
    expect(info.state).toBe(claimed && info.state === 'running' ? 'running' : job.state);
    expect(info.retries).toBe(job.retries);
    expect(status).toMatchObject({
      known: true,
      running: claimed ? status.running : job.state === 'running',
    });
    const holders = real.held.filter((h) => h.includes(info.handle)).length;
    expect(holders).toBe(job.state === 'running' ? 1 : 0);
    if (answer !== undefined) {
      // The live job of that unique id (on a shared queue, a foreground and a background
      // one may hold it at once: the answer is one of them).
      const holder = model.jobs.get(answer.handle ?? '');
      expect(holder?.unique === job.unique && holder.fn === job.fn, answer.handle).toBe(true);
      expect(answer.handle).toBe(job.handle);
      const clients = holder!.attached.length;
      expect(answer.clientCount).toBe(SHARED ? Math.min(clients, 1) : clients);
    }
  }
  // Every submission got exactly the final updates it was owed, never two.
  expect(real.finals).toEqual(model.expectedFinals);
  // No job waits longer than the bound while a worker that answers sleeps and could take it.
  const now = real.clock.now();
  for (const job of model.jobs.values()) {
    if (job.state !== 'queued' || now - job.queuedSince <= WAKE_TIMEOUT) continue;
    // A paused function's jobs wait for the resume, however many workers sleep.
    if (model.paused.has(job.fn)) continue;
    const sleepers = WORKER_FUNCTIONS.flatMap((fns, slot) =>
      fns.includes(job.fn) && model.responsive[slot] && real.asleep[slot] ? [slot] : [],
    );
    expect(sleepers, `${job.handle} queued since ${job.queuedSince}, now ${now}`).toEqual([]);
  }
}

const command = fc.oneof(
  {
    weight: 4,
    arbitrary: fc
      .tuple(
        fc.nat(1),
        fc.constantFrom(...FUNCTIONS),
        fc.constantFrom('', 'u1', 'u2'),
        fc.boolean(),
        fc.constantFrom<Priority>('high', 'normal', 'low'),
      )
      .map(([c, fn, u, bg, p]) => new Submit(c, fn, u, bg, p)),
  },
  { weight: 3, arbitrary: fc.nat(2).map((w) => new Grab(w)) },
  {
    weight: 3,
    arbitrary: fc
      .tuple(
        fc.nat(2),
        fc.constantFrom<'complete' | 'fail' | 'exception'>('complete', 'fail', 'exception'),
      )
      .map(([w, how]) => new Finish(w, how)),
  },
  { weight: 2, arbitrary: fc.nat(2).map((w) => new WorkerDies(w)) },
  { weight: 1, arbitrary: fc.nat(1).map((c) => new ClientLeaves(c)) },
  { weight: 1, arbitrary: fc.nat(20).map((p) => new Cancel(p)) },
  { weight: 4, arbitrary: fc.nat(2).map((w) => new Sleep(w)) },
  { weight: 3, arbitrary: fc.nat(2).map((w) => new Hang(w)) },
  { weight: 3, arbitrary: fc.integer({ min: 1, max: 150 }).map((ms) => new Advance(ms)) },
  {
    weight: 2,
    arbitrary: fc
      .tuple(fc.constantFrom(...FUNCTIONS), fc.boolean())
      .map(([fn, pause]) => new PauseOrResume(fn, pause)),
  },
);

type Step =
  | Submit
  | Grab
  | Finish
  | WorkerDies
  | ClientLeaves
  | Cancel
  | Sleep
  | Hang
  | PauseOrResume
  | Advance;

/** A command followed by what follows every one: woken workers answer, the invariants hold. */
function checked(c: Step): fc.AsyncCommand<Model, Real> {
  return {
    check: (m) => c.check(m),
    run: async (m, r) => {
      await c.run(m, r);
      await settled();
      await answerWakes(m, r);
      await checkInvariants(m, r);
    },
    toString: () => c.toString(),
  };
}

describe('model-based: random operation sequences keep every invariant', () => {
  it('holds for 400 random runs of up to 80 operations', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.commands([command.map(checked)], { maxCommands: 80, size: 'large' }),
        async (commands) => {
          const clock = new VirtualTimeScheduler();
          const s = server({
            maxRetries: MAX_RETRIES,
            scheduler: clock,
            wakeTimeout: WAKE_TIMEOUT,
          });
          const real: Real = {
            s,
            clients: [s.connect(), s.connect()],
            workers: [],
            finals: [],
            held: [],
            clock,
            asleep: [],
            woken: [],
          };
          for (let slot = 0; slot < WORKER_FUNCTIONS.length; slot++) newWorker(real, slot);
          const model: Model = {
            jobs: new Map(),
            expectedFinals: [],
            submissionClient: [],
            responsive: WORKER_FUNCTIONS.map(() => true),
            paused: new Set(),
          };
          await fc.asyncModelRun(() => ({ model, real }), commands);
          // Queues drain while workers exist: resume, and work everything that is left.
          for (const fn of [...model.paused]) {
            await new PauseOrResume(fn, false).run(model, real);
            await settled();
            await answerWakes(model, real);
          }
          for (let round = 0; round < 500 && model.jobs.size > 0; round++) {
            for (let slot = 0; slot < real.workers.length; slot++) {
              const grab = new Grab(slot);
              await grab.take(model, real);
              while (real.held[slot]!.length > 0) new Finish(slot, 'complete').run(model, real);
              await settled();
            }
          }
          expect(model.jobs.size).toBe(0);
          await checkInvariants(model, real);
        },
      ),
      { numRuns: 400 },
    );
    // A shared queue's runs take a few turns per step: 7 s on an idle machine, more beside
    // the rest of the suite on two cores.
  }, 60_000);
});
