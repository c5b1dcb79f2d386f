import {
  InvalidArgumentError,
  QueueFullError,
  QueueUnavailableError,
  UniqueTooLargeError,
  WorkersElsewhereError,
  type ClientOptions,
  type JobStatus,
  type JobUpdate,
  type UniqueJobStatus,
} from '@geartrain/core';
import {
  checkName,
  checkOptions,
  ClientBase,
  deliver,
  toBuffer,
  type JobListener,
  type SubmitOutcome,
  type SubmitRequest,
  type SubmitTarget,
} from '@geartrain/core/transport';
import { errorCodeOf, owned, type Packet, type PacketOf } from '@geartrain/protocol';
import { asyncScheduler, type SchedulerLike } from 'rxjs';
import { ServerConnection } from './connection.js';
import { ClientClosedError, NoServerError, ServerError, ServerLostError } from './errors.js';
import { HashRing, parseServers } from './servers.js';
import { CLIENT_KEYS } from './option-keys.js';
import type { GearmanClientOptions } from './options.js';

export type { GearmanClientOptions, NetworkOptions } from './options.js';

/** The listeners of one handle on one connection (a connection may submit a unique twice). */
interface HandleEntry {
  readonly listeners: JobListener[];
  /**
   * Copies of the last update still to come: a server sends each update once per
   * attached submission (reference §3.2), and all of this connection's listeners already
   * got it with the first copy.
   */
  skip: number;
  finished: boolean;
}

/** One server as the client sees it: its connection and its foreground jobs. */
class ClientLink {
  readonly jobs = new Map<string, HandleEntry>();
  constructor(readonly connection: ServerConnection) {}
}

const FINAL = new Set(['WORK_COMPLETE', 'WORK_FAIL', 'WORK_EXCEPTION']);

/**
 * The TCP client's {@link SubmitTarget}: picks a server per submission (consistent hashing
 * of the unique id, round robin otherwise), speaks the client half of the protocol on each,
 * and routes WORK_* updates to the submissions that wait for them.
 */
export class ClientCluster implements SubmitTarget {
  readonly links: ClientLink[];
  private readonly ring: HashRing;
  private next = 0;
  private closed = false;
  private readonly connectTimeout: number;
  private readonly scheduler: SchedulerLike;
  private readonly maxUniqueLength: number;

  constructor(options: GearmanClientOptions = {}) {
    this.maxUniqueLength = options.maxUniqueLength ?? 64;
    const scheduler = (this.scheduler = options.scheduler ?? asyncScheduler);
    const addresses = parseServers(options.servers);
    this.connectTimeout = options.connectTimeout ?? 5000;
    this.ring = new HashRing(addresses.map((a) => a.name));
    this.links = addresses.map((address) => {
      const connection = new ServerConnection(
        address,
        {
          // Exceptions are always asked for; a submission that does not want them gets a
          // plain failure from `onUpdate`. The OPTION_RES is a reply, so this is a request.
          up: (c) =>
            c.request({ type: 'OPTION_REQ', option: 'exceptions' }, 'OPTION_RES', () => {}),
          packet: (_c, packet) => this.onUpdate(link, packet),
          down: (_c, error) => this.onDown(link, error),
        },
        scheduler,
        options,
      );
      const link: ClientLink = new ClientLink(connection);
      return link;
    });
    for (const link of this.links) link.connection.open();
  }

  submit(request: SubmitRequest, listener?: JobListener): Promise<SubmitOutcome> {
    if (request.transaction !== undefined) {
      // The server's database is not this process's: a transaction cannot cross the wire.
      return Promise.reject(
        new InvalidArgumentError('a job in a transaction is submitted in process, not over TCP'),
      );
    }
    const packet = submitPacket(request);
    const unique = request.unique ?? '';
    const key = unique === '' || unique === '-' ? undefined : unique;
    return this.pickUp(key).then(
      (link) =>
        new Promise<SubmitOutcome>((resolve, reject) => {
          link.connection.request(packet, 'JOB_CREATED', (error, reply) => {
            if (error !== null) return reject(error);
            if (reply!.type === 'ERROR') {
              return reject(this.submitError(link, request.functionName, reply));
            }
            const handle = (reply as PacketOf<'JOB_CREATED'>).handle;
            let coalesced = false;
            if (listener !== undefined) {
              const entry = link.jobs.get(handle);
              if (entry === undefined) {
                link.jobs.set(handle, { listeners: [listener], skip: 0, finished: false });
              } else {
                entry.listeners.push(listener);
                coalesced = true;
              }
            }
            resolve({ handle, coalesced });
          });
        }),
    );
  }

  detach(_handle: string, _listener: JobListener): void {
    // Nothing to tell the server (Gearman has no such request): the listener stays in its
    // entry, so the copies of later updates are still counted, and ignores them.
  }

  /** GET_STATUS on every connected server; the one that knows the handle answers. */
  async status(handle: string): Promise<JobStatus> {
    const links = await this.upLinks();
    const answers = await Promise.all(
      links.map((link) =>
        this.ask<'STATUS_RES'>(link, { type: 'GET_STATUS', handle }, 'STATUS_RES').catch(
          () => undefined,
        ),
      ),
    );
    const known = answers.find((a) => a !== undefined && a.known === '1');
    const answer = known ?? answers.find((a) => a !== undefined);
    if (answer === undefined) throw new NoServerError(this.names);
    return {
      known: answer.known === '1',
      running: answer.running === '1',
      numerator: Number(answer.numerator),
      denominator: Number(answer.denominator),
    };
  }

  /** GET_STATUS_UNIQUE on the server the unique id hashes to. */
  async statusByUnique(unique: string, _functionName?: string): Promise<UniqueJobStatus> {
    const link = await this.pick(unique);
    const answer = await this.ask<'STATUS_RES_UNIQUE'>(
      link,
      { type: 'GET_STATUS_UNIQUE', unique },
      'STATUS_RES_UNIQUE',
    );
    return {
      known: answer.known === '1',
      running: answer.running === '1',
      numerator: Number(answer.numerator),
      denominator: Number(answer.denominator),
      clientCount: Number(answer.clientCount),
      handle: undefined,
    };
  }

  /** ECHO_REQ to one server; resolves with the echoed bytes. */
  async echo(data: Buffer | string, server?: string): Promise<Buffer> {
    const link =
      server === undefined
        ? await this.pick(undefined)
        : this.links.find((l) => l.connection.name === server);
    if (link === undefined) throw new InvalidArgumentError(`unknown server ${server}`);
    if (!link.connection.isUp) await this.waitFor([link]);
    const payload = typeof data === 'string' ? Buffer.from(data) : data;
    const reply = await this.ask<'ECHO_RES'>(link, { type: 'ECHO_REQ', data: payload }, 'ECHO_RES');
    return owned(reply.data);
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    for (const link of this.links) link.connection.close();
  }

  get names(): string[] {
    return this.links.map((l) => l.connection.name);
  }

  /** The server for a submission: by hashing `key` when given, else round robin; up ones only. */
  private pick(key: string | undefined): Promise<ClientLink> {
    if (this.closed) return Promise.reject(new ClientClosedError());
    const links = this.links;
    if (key !== undefined) {
      const index = this.ring.lookup(key, (i) => links[i]!.connection.isUp);
      if (index >= 0) return Promise.resolve(links[index]!);
    } else {
      for (let i = 0; i < links.length; i++) {
        const link = links[(this.next + i) % links.length]!;
        if (link.connection.isUp) {
          this.next = (this.next + i + 1) % links.length;
          return Promise.resolve(link);
        }
      }
    }
    return this.waitFor(this.links).then(() => this.pick(key));
  }

  /**
   * `pick`, then again if the server chosen went down before the request could be written
   * (a request never sent can go elsewhere; one sent cannot, it may have been accepted).
   */
  private async pickUp(key: string | undefined): Promise<ClientLink> {
    for (let attempt = 0; ; attempt++) {
      const link = await this.pick(key);
      if (link.connection.isUp || attempt === 3) return link;
    }
  }

  /** Waits until one of `links` is up (kicking those waiting to reconnect), at most the connect timeout. */
  private waitFor(links: readonly ClientLink[]): Promise<void> {
    for (const link of links) link.connection.kick();
    return new Promise<void>((resolve, reject) => {
      const timer = this.scheduler.schedule(
        () => reject(new NoServerError(this.names)),
        this.connectTimeout,
      );
      void Promise.race(links.map((l) => l.connection.whenUp())).then(() => {
        timer.unsubscribe();
        if (this.closed) reject(new ClientClosedError());
        else resolve();
      });
    });
  }

  private async upLinks(): Promise<ClientLink[]> {
    let links = this.links.filter((l) => l.connection.isUp);
    if (links.length === 0) {
      await this.waitFor(this.links);
      links = this.links.filter((l) => l.connection.isUp);
    }
    return links;
  }

  private ask<N extends 'STATUS_RES' | 'STATUS_RES_UNIQUE' | 'ECHO_RES'>(
    link: ClientLink,
    packet: Packet,
    expect: N,
  ): Promise<PacketOf<N>> {
    return new Promise((resolve, reject) => {
      link.connection.request(packet, expect, (error, reply) => {
        if (error !== null) reject(error);
        else if (reply!.type === 'ERROR') reject(serverError(link, reply));
        else resolve(reply as unknown as PacketOf<N>);
      });
    });
  }

  /** A WORK_* (or NOOP) packet on a client connection. */
  /** The error for an ERROR reply to a submission (the wire-error table, read back). */
  private submitError(link: ClientLink, functionName: string, reply: Packet): Error {
    switch (errorCodeOf(reply as PacketOf<'ERROR'>)) {
      case 'QUEUE_FULL':
        return new QueueFullError(functionName);
      case 'UNIQUE_TOO_LARGE':
        return new UniqueTooLargeError(this.maxUniqueLength);
      case 'WORKERS_ELSEWHERE':
        return new WorkersElsewhereError(functionName);
      case 'QUEUE_UNAVAILABLE':
        // A node of a shared queue whose database is away: the job was not accepted.
        return new QueueUnavailableError(
          `${link.connection.name}: the shared queue is unavailable`,
          null,
        );
      default:
        return serverError(link, reply);
    }
  }

  private onUpdate(link: ClientLink, packet: Packet): void {
    if (!('handle' in packet)) return;
    const entry = link.jobs.get(packet.handle);
    if (entry === undefined) return;
    if (entry.skip > 0) {
      entry.skip--;
      if (entry.skip === 0 && entry.finished) link.jobs.delete(packet.handle);
      return;
    }
    const update = toUpdate(packet);
    if (update === undefined) return;
    for (const listener of entry.listeners) deliver(listener, packet.handle, update);
    entry.skip = entry.listeners.length - 1;
    if (FINAL.has(packet.type)) {
      entry.finished = true;
      if (entry.skip === 0) link.jobs.delete(packet.handle);
    }
  }

  /** A lost server: its foreground jobs can never finish from the client's point of view. */
  private onDown(link: ClientLink, error: Error): void {
    const jobs = [...link.jobs];
    link.jobs.clear();
    const lost =
      error instanceof ServerLostError ? error : new ServerLostError(link.connection.name, error);
    for (const [handle, entry] of jobs) {
      if (entry.finished) continue;
      for (const listener of entry.listeners) listener.lost?.(handle, lost);
    }
  }
}

function toUpdate(packet: Packet): JobUpdate | undefined {
  switch (packet.type) {
    case 'WORK_DATA':
      return { type: 'data', data: owned(packet.data) };
    case 'WORK_WARNING':
      return { type: 'warning', data: owned(packet.data) };
    case 'WORK_STATUS':
      return {
        type: 'status',
        numerator: Number(packet.numerator),
        denominator: Number(packet.denominator),
      };
    case 'WORK_COMPLETE':
      return { type: 'complete', data: owned(packet.data) };
    case 'WORK_FAIL':
      return { type: 'fail', reason: 'WORK_FAIL' };
    case 'WORK_EXCEPTION':
      return { type: 'exception', data: owned(packet.data) };
    default:
      return undefined;
  }
}

/** The SUBMIT_JOB* packet for a request (reference §2). */
export function submitPacket(request: SubmitRequest): Packet {
  const functionName = request.functionName;
  const unique = request.unique ?? '';
  // The core's rule for names (a string, no NUL byte), as the in-process server applies it.
  checkName(functionName, 'function name');
  checkName(unique, 'unique id');
  const data = toBuffer(request.payload);
  if (functionName === '') throw new InvalidArgumentError('a function name cannot be empty');
  if (request.retry !== undefined) {
    // Gearman has no packet for it: the server's policy for the function does it.
    throw new InvalidArgumentError(
      "a job's own retry policy works in process only; over TCP, set the function's policy on the server (setJobPolicy)",
    );
  }
  const runAt = request.runAt ?? 0;
  let packet: Packet;
  if (runAt > 0) {
    // SUBMIT_JOB_EPOCH: whole seconds, rounded up (never earlier than asked); always a
    // background job of normal priority on the wire (reference §3.10).
    const epoch = String(Math.ceil(runAt / 1000));
    packet = { type: 'SUBMIT_JOB_EPOCH', functionName, unique, epoch, data };
  } else {
    const type = request.background
      ? request.priority === 'high'
        ? 'SUBMIT_JOB_HIGH_BG'
        : request.priority === 'low'
          ? 'SUBMIT_JOB_LOW_BG'
          : 'SUBMIT_JOB_BG'
      : request.priority === 'high'
        ? 'SUBMIT_JOB_HIGH'
        : request.priority === 'low'
          ? 'SUBMIT_JOB_LOW'
          : 'SUBMIT_JOB';
    packet = { type, functionName, unique, data };
  }
  return packet;
}

/** The error for an ERROR reply: the core's typed error where the wire-error table has one. */
function serverError(link: ClientLink, reply: Packet): Error {
  const error = reply as PacketOf<'ERROR'>;
  if (errorCodeOf(error) === 'INVALID_ARGUMENT') return new InvalidArgumentError(error.errorText);
  return new ServerError(link.connection.name, error.errorCode, error.errorText);
}

/**
 * A Gearman client over TCP with the in-process client's API (`submit`, `run`, `submitAll`,
 * `runAll`, `status`, `statusByUnique`): moving a job from in-process to the network is a
 * change of configuration.
 */
export class GearmanClient extends ClientBase {
  private readonly cluster: ClientCluster;

  /** @internal Use {@link createClient}. */
  constructor(cluster: ClientCluster, now: () => number, options: ClientOptions) {
    super(cluster, now, options);
    this.cluster = cluster;
  }

  /** The servers, as `host:port`, and whether each is connected now. */
  get servers(): { name: string; connected: boolean }[] {
    return this.cluster.links.map((l) => ({
      name: l.connection.name,
      connected: l.connection.isUp,
    }));
  }

  /** ECHO_REQ: a round trip to one server (the first reachable by default). */
  echo(data: Buffer | string = 'ping', server?: string): Promise<Buffer> {
    return this.cluster.echo(data, server);
  }
}

/** Creates a client of one or more Gearman servers (geartrain or gearmand). */
export function createClient(options: GearmanClientOptions = {}): GearmanClient {
  checkOptions(options, 'client options', CLIENT_KEYS);
  const cluster = new ClientCluster(options);
  const scheduler = options.scheduler ?? asyncScheduler;
  return new GearmanClient(cluster, () => scheduler.now(), options);
}
