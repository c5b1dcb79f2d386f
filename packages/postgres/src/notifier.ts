/** One revocation: the node that holds the job is to drop it. */
export interface Revocation {
  /** The node holding the job. */
  readonly to: string;
  readonly handle: string;
  readonly attempt: number;
  readonly reason: string;
}

/** What one NOTIFY carries (JSON), from one node to the others. */
export interface Notice {
  /** The sender: a node ignores its own wake-ups (it woke itself at once). */
  readonly n: string;
  /** Functions that got jobs (null: any function may have). */
  readonly f?: readonly string[] | null;
  /** Functions whose next job is delayed: ms from the send until it is due. */
  readonly d?: Readonly<Record<string, number>>;
  readonly r?: readonly Revocation[];
  /** The schedules changed: read them again. */
  readonly s?: 1;
  /** These functions' settings records changed: read them again, and put them in force. */
  readonly c?: readonly string[];
  /** Updates of these foreground jobs (ids) were written: the nodes waiting read them. */
  readonly u?: readonly string[];
  /** Nodes began to wait for these running jobs: the node running each passes its updates on. */
  readonly w?: readonly { readonly to: string; readonly id: string }[];
}

/** NOTIFY payloads stop at 8,000 bytes; a larger wake-up names no function. */
const PAYLOAD_LIMIT = 7000;

/**
 * Wake-ups for the other nodes, debounced (shared-queue notes, point 6): the first goes at
 * once, the next ones at most once an interval (1/notifyRate s), each carrying the names of
 * every function that got jobs since: at most `notifyRate` NOTIFY a second per node,
 * whatever the submit rate. A NOTIFY is its own statement, sent after the commits it
 * announces (River moved them out of its insert trigger for the same reason).
 */
export class Notifier {
  private functions = new Set<string>();
  private all = false;
  /** Delayed work: function → when it is due (local ms). */
  private delayed = new Map<string, number>();
  private revocations: Revocation[] = [];
  private schedules = false;
  private settings = new Set<string>();
  private updates = new Set<string>();
  private watched: { to: string; id: string }[] = [];
  private lastSent = -Infinity;
  private timer: NodeJS.Timeout | null = null;
  private closed = false;
  /** NOTIFY sent since the start, for tests and metrics. */
  sent = 0;

  constructor(
    private readonly node: string,
    private readonly interval: number,
    private readonly send: (payload: string) => Promise<unknown>,
    private readonly onError: (error: unknown) => void,
  ) {}

  /** Functions that got jobs (null: any); `now`: sent at once (a client waits for one). */
  jobs(names: Iterable<string> | null, now = false): void {
    if (names === null) this.all = true;
    else for (const name of names) this.functions.add(name);
    if (now && !this.closed) void this.flush();
    else this.queue();
  }

  /** A function's job that is due in `delay` ms. */
  due(name: string, delay: number): void {
    const at = Date.now() + delay;
    const known = this.delayed.get(name);
    if (known === undefined || at < known) this.delayed.set(name, at);
    this.queue();
  }

  revoke(revocation: Revocation): void {
    this.revocations.push(revocation);
    this.queue();
  }

  schedulesChanged(): void {
    this.schedules = true;
    this.queue();
  }

  settingsChanged(functionName: string): void {
    this.settings.add(functionName);
    this.queue();
  }

  /**
   * Updates of these jobs were written: sent at once, not at the interval's pace (a client
   * waits for them; they come no faster than the writes, which are batched).
   */
  updated(ids: readonly string[]): void {
    for (const id of ids) this.updates.add(id);
    if (!this.closed) void this.flush();
  }

  /** This node began to wait for a job running on node `to`: sent at once. */
  watching(to: string, id: string): void {
    this.watched.push({ to, id });
    if (!this.closed) void this.flush();
  }

  private queue(): void {
    if (this.closed || this.timer !== null) return;
    const wait = Math.max(0, this.lastSent + this.interval - Date.now());
    this.timer = setTimeout(() => {
      this.timer = null;
      void this.flush();
    }, wait);
  }

  /** Sends what was gathered, as one NOTIFY. */
  flush(): Promise<void> {
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = null;
    const empty =
      !this.all &&
      this.functions.size === 0 &&
      this.delayed.size === 0 &&
      this.revocations.length === 0 &&
      !this.schedules &&
      this.settings.size === 0 &&
      this.updates.size === 0 &&
      this.watched.length === 0;
    if (empty) return Promise.resolve();
    const now = Date.now();
    const d: Record<string, number> = {};
    for (const [name, at] of this.delayed) d[name] = Math.max(0, at - now);
    let notice: Notice = {
      n: this.node,
      ...(this.all || this.functions.size > 0 ? { f: this.all ? null : [...this.functions] } : {}),
      ...(this.delayed.size > 0 ? { d } : {}),
      ...(this.revocations.length > 0 ? { r: this.revocations } : {}),
      ...(this.schedules ? { s: 1 as const } : {}),
      ...(this.settings.size > 0 ? { c: [...this.settings] } : {}),
      ...(this.updates.size > 0 ? { u: [...this.updates] } : {}),
      ...(this.watched.length > 0 ? { w: this.watched } : {}),
    };
    let payload = JSON.stringify(notice);
    if (payload.length > PAYLOAD_LIMIT) {
      // Too many names: the others look at every function they have idle workers for.
      // (Settings too: every node reads every record again.)
      notice = {
        n: this.node,
        f: null,
        ...(this.schedules ? { s: 1 as const } : {}),
        ...(this.settings.size > 0 ? { c: [] } : {}),
        // Every node waiting reads all its jobs' updates again.
        ...(this.updates.size > 0 ? { u: [] } : {}),
      };
      payload = JSON.stringify(notice);
      const revocations = this.revocations;
      this.revocations = [];
      // Revocations are sent apart, in as many notices as they need.
      for (let i = 0; i < revocations.length; i += 50) {
        const part = JSON.stringify({ n: this.node, r: revocations.slice(i, i + 50) });
        void this.send(part).catch(this.onError);
        this.sent++;
      }
      const watched = this.watched;
      this.watched = [];
      for (let i = 0; i < watched.length; i += 50) {
        const part = JSON.stringify({ n: this.node, w: watched.slice(i, i + 50) });
        void this.send(part).catch(this.onError);
        this.sent++;
      }
    }
    this.functions = new Set();
    this.all = false;
    this.delayed = new Map();
    this.revocations = [];
    this.schedules = false;
    this.settings = new Set();
    this.updates = new Set();
    this.watched = [];
    this.lastSent = now;
    this.sent++;
    return this.send(payload).then(
      () => undefined,
      (error: unknown) => this.onError(error),
    );
  }

  /** Sends what is left, and no more. */
  async close(): Promise<void> {
    await this.flush();
    this.closed = true;
  }
}
