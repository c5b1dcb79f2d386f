import { ConnectionClosedError, JobNotFoundError, type RegisterOptions } from '@geartrain/core';
import {
  checkOptions,
  WorkerBase,
  type WorkAssignment,
  type WorkReport,
} from '@geartrain/core/transport';
import { owned, type Packet, type PacketOf } from '@geartrain/protocol';
import { asyncScheduler } from 'rxjs';
import { ServerConnection } from './connection.js';
import { parseServers } from './servers.js';
import { WORKER_KEYS } from './option-keys.js';

export type { GearmanWorkerOptions } from './options.js';
import type { GearmanWorkerOptions } from './options.js';

/** A job taken from one server over one connection. */
interface NetAssignment extends WorkAssignment {
  readonly link: WorkerLink;
  /** The connection's generation when the job was taken: a reconnect loses it. */
  readonly generation: number;
}

/** One server as the worker sees it. */
class WorkerLink {
  /** A GRAB_JOB_UNIQ is in flight. */
  grabbing = false;
  /** PRE_SLEEP sent; waiting for a NOOP. */
  sleeping = false;
  /** A job taken while its function had no room: it runs when room frees. */
  waiting: NetAssignment | null = null;
  constructor(readonly connection: ServerConnection) {}
}

/**
 * A Gearman worker over TCP with the in-process worker's API (`register`, job context,
 * lifecycle events, policies, graceful `close`). It connects to every server of its list and
 * takes work from each (GRAB_JOB_UNIQ, PRE_SLEEP/NOOP), and after a server comes back it
 * registers its functions and client id again.
 */
export class GearmanWorker extends WorkerBase<NetAssignment> {
  private readonly links: WorkerLink[];
  private readonly clientId: string | undefined;
  private nextLink = 0;

  /** @internal Use {@link createWorker}. */
  constructor(options: GearmanWorkerOptions = {}) {
    const scheduler = options.scheduler ?? asyncScheduler;
    super(scheduler);
    this.clientId = options.clientId;
    this.links = parseServers(options.servers).map((address) => {
      const link: WorkerLink = new WorkerLink(
        new ServerConnection(
          address,
          {
            connecting: () => this.emit({ type: 'connecting', time: this.now() }),
            up: () => this.onUp(link),
            packet: (_c, packet) => this.onPacket(link, packet),
            down: (_c, error) => this.onDown(link, error),
          },
          scheduler,
          options,
        ),
      );
      return link;
    });
    this.init(options);
  }

  /** The servers, as `host:port`, and whether each is connected now. */
  get servers(): { name: string; connected: boolean }[] {
    return this.links.map((l) => ({ name: l.connection.name, connected: l.connection.isUp }));
  }

  protected open(): void {
    for (const link of this.links) link.connection.open();
  }

  protected sendCanDo(functionName: string, options: RegisterOptions): void {
    for (const link of this.links) this.canDo(link, functionName, options);
  }

  protected sendCantDo(functionName: string): void {
    for (const link of this.links) link.connection.send({ type: 'CANT_DO', functionName });
  }

  protected override get enforcesTimeouts(): boolean {
    return true;
  }

  private canDo(link: WorkerLink, functionName: string, options: RegisterOptions): void {
    const timeout = options.timeout ?? 0;
    if (timeout > 0) {
      link.connection.send({
        type: 'CAN_DO_TIMEOUT',
        functionName,
        timeout: String(Math.ceil(timeout)),
      });
    } else link.connection.send({ type: 'CAN_DO', functionName });
  }

  /** Connected (again): client id, every registration, then look for work. */
  private onUp(link: WorkerLink): void {
    this.emit({ type: 'connected', time: this.now() });
    if (this.state !== 'running') return;
    link.grabbing = link.sleeping = false;
    link.waiting = null;
    if (this.clientId !== undefined) {
      link.connection.send({ type: 'SET_CLIENT_ID', clientId: this.clientId });
    }
    const functions = [...this.handlers.keys()];
    this.emit({ type: 'beforeRegister', time: this.now(), functions });
    for (const [name, { options }] of this.handlers) this.canDo(link, name, options);
    this.emit({ type: 'afterRegister', time: this.now(), functions });
    this.grab(link);
  }

  /** NOOP: work may be waiting on that server. */
  private onPacket(link: WorkerLink, packet: Packet): void {
    if (packet.type !== 'NOOP') return;
    link.sleeping = false;
    this.grab(link);
  }

  /** A lost server: its jobs went back to its queue; their handlers are aborted. */
  private onDown(link: WorkerLink, error: Error): void {
    link.grabbing = link.sleeping = false;
    link.waiting = null;
    this.revokeWhere((a) => a.link === link, error);
  }

  /** Takes work from every server that may have some, while there is room. */
  protected pump(): void {
    const links = this.links;
    for (let i = 0; i < links.length; i++) {
      this.grab(links[(this.nextLink + i) % links.length]!);
    }
    this.nextLink = (this.nextLink + 1) % links.length;
  }

  protected settled(): void {
    // A job that waited for its function's room first, then more work.
    for (const link of this.links) {
      const waiting = link.waiting;
      if (waiting !== null && this.hasRoomFor(waiting.functionName)) {
        link.waiting = null;
        this.begin(waiting);
      }
    }
    this.pump();
  }

  private begin(assignment: NetAssignment): void {
    if (assignment.generation !== assignment.link.connection.generation) return;
    this.execute(assignment);
  }

  /** One GRAB_JOB_UNIQ on one server, if it may have work and the worker has room. */
  private grab(link: WorkerLink): void {
    if (
      this.state !== 'running' ||
      link.grabbing ||
      link.sleeping ||
      link.waiting !== null ||
      !link.connection.isUp ||
      !this.hasRoom
    ) {
      return;
    }
    link.grabbing = true;
    const generation = link.connection.generation;
    link.connection.request({ type: 'GRAB_JOB_UNIQ' }, 'JOB_ASSIGN_UNIQ', (error, reply) => {
      link.grabbing = false;
      if (error !== null || generation !== link.connection.generation) return;
      if (reply!.type === 'NO_JOB') {
        this.emit({ type: 'idle', time: this.now() });
        link.sleeping = link.connection.send({ type: 'PRE_SLEEP' });
        this.emit({ type: 'waiting', time: this.now() });
        return;
      }
      if (reply!.type !== 'JOB_ASSIGN_UNIQ' && reply!.type !== 'JOB_ASSIGN') return;
      const packet = reply as PacketOf<'JOB_ASSIGN_UNIQ'>;
      const assignment: NetAssignment = {
        handle: packet.handle,
        functionName: packet.functionName,
        unique: packet.unique ?? '',
        payload: owned(packet.data),
        attempt: 1,
        link,
        generation,
      };
      if (this.state !== 'running') {
        // Stopping: the job goes back to the server when the connection closes.
        return;
      }
      if (this.hasRoomFor(assignment.functionName)) this.begin(assignment);
      else link.waiting = assignment;
      this.grab(link);
    });
  }

  protected send(assignment: NetAssignment, report: WorkReport): void {
    const connection = assignment.link.connection;
    if (assignment.generation !== connection.generation || !connection.isUp) {
      throw new JobNotFoundError(assignment.handle);
    }
    const handle = assignment.handle;
    let packet: Packet;
    switch (report.type) {
      case 'complete':
        packet = { type: 'WORK_COMPLETE', handle, data: report.data };
        break;
      case 'fail':
        packet = { type: 'WORK_FAIL', handle };
        break;
      case 'exception':
        packet = { type: 'WORK_EXCEPTION', handle, data: report.data };
        break;
      case 'status':
        packet = {
          type: 'WORK_STATUS',
          handle,
          numerator: String(Math.trunc(report.numerator)),
          denominator: String(Math.trunc(report.denominator)),
        };
        break;
      case 'data':
        packet = { type: 'WORK_DATA', handle, data: report.data };
        break;
      case 'warning':
        packet = { type: 'WORK_WARNING', handle, data: report.data };
    }
    if (!connection.send(packet)) throw new ConnectionClosedError();
  }

  protected shut(): void {
    for (const link of this.links) link.connection.close();
  }
}

/** Creates a worker of one or more Gearman servers (geartrain or gearmand). */
export function createWorker(options: GearmanWorkerOptions = {}): GearmanWorker {
  checkOptions(options, 'worker options', WORKER_KEYS);
  return new GearmanWorker(options);
}
