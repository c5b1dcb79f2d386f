import type { SchedulerLike } from 'rxjs';
import type { Connection, ConnectionSink } from './connection.js';
import type { Assignment } from './transport-types.js';
import { WorkerBase } from './worker.js';
import type { RegisterOptions, WorkReport, WorkerOptions } from './worker-types.js';

/**
 * A worker inside the server's process. Register handlers; jobs are grabbed while the
 * worker has room (per function `concurrency`), and the worker sleeps until woken when
 * there is no work, like a Gearman worker with PRE_SLEEP/NOOP.
 */
export class InProcessWorker extends WorkerBase<Assignment> {
  private readonly connection: Connection;
  private pumping = false;

  /** @internal Created by `server.worker()`. */
  constructor(
    connect: (sink: ConnectionSink) => Connection,
    scheduler: SchedulerLike,
    options: WorkerOptions = {},
  ) {
    super(scheduler);
    this.connection = connect({
      wake: () => this.schedulePump(),
      revoked: (handle, reason) => this.revokeRunning(handle, reason),
    });
    if (options.clientId !== undefined) this.connection.clientId = options.clientId;
    this.init(options);
  }

  protected sendCanDo(functionName: string, options: RegisterOptions): void {
    this.connection.canDo(functionName, {
      timeout: options.timeout ?? 0,
      capacity: options.concurrency ?? 1,
    });
  }

  protected sendCantDo(functionName: string): void {
    this.connection.cantDo(functionName);
  }

  protected open(functions: readonly string[]): void {
    this.emit({ type: 'connecting', time: this.now() });
    this.emit({ type: 'connected', time: this.now() });
    this.emit({ type: 'beforeRegister', time: this.now(), functions });
    for (const [name, { options }] of this.handlers) this.sendCanDo(name, options);
    this.emit({ type: 'afterRegister', time: this.now(), functions });
    this.pump();
  }

  /** Takes jobs while there is room; sleeps when there is none to take. */
  protected pump(): void {
    if (this.state !== 'running' || this.pumping) return;
    this.pumping = true;
    try {
      for (;;) {
        if (this.state !== 'running') return;
        const assignment = this.connection.grab();
        if (assignment === undefined) break;
        this.execute(assignment);
      }
      if (this.connection.hasRoom) {
        const observed = this.observed;
        if (observed) this.emit({ type: 'idle', time: this.now() });
        this.connection.preSleep();
        if (observed && this.connection.sleeping) this.emit({ type: 'waiting', time: this.now() });
      }
    } finally {
      this.pumping = false;
    }
  }

  protected settled(): void {
    if (!this.pumping) this.pump();
  }

  protected override sendComplete(assignment: Assignment, data: Buffer): void {
    this.connection.workComplete(assignment, data);
  }

  protected send(assignment: Assignment, report: WorkReport): void {
    const c = this.connection;
    switch (report.type) {
      case 'complete':
        return c.workComplete(assignment, report.data);
      case 'fail':
        return c.workFail(assignment, report.error);
      case 'exception':
        return c.workException(assignment, report.data, report.error);
      case 'status':
        return c.workStatus(assignment, report.numerator, report.denominator);
      case 'data':
        return c.workData(assignment, report.data);
      case 'warning':
        return c.workWarning(assignment, report.data);
    }
  }

  protected shut(): void {
    this.connection.close();
  }
}
