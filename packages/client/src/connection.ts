import {
  Decoder,
  PacketWriter,
  type Packet,
  type PacketName,
  type ProtocolError,
} from '@geartrain/protocol';
import { createConnection, type Socket } from 'node:net';
import type { SchedulerLike, Subscription } from 'rxjs';
import { ServerLostError } from './errors.js';
import type { ServerAddress } from './servers.js';

/** Timeouts and back-off of a connection to one server. */
export interface ConnectionOptions {
  /** A connection attempt fails after this many ms. Default 5000. */
  connectTimeout?: number;
  /**
   * A request unanswered after this many ms means the server is lost: the connection is
   * dropped and made again. 0 disables. Default 30000.
   */
  requestTimeout?: number;
  /**
   * An idle connection is checked with ECHO_REQ every this many ms (the answer must come
   * within `requestTimeout`). 0 disables. Default 15000.
   */
  healthCheckInterval?: number;
  /** Reconnection back-off: the first delay in ms (default 100). */
  reconnectDelay?: number;
  /** The longest delay between attempts in ms (default 10000). */
  maxReconnectDelay?: number;
  /** Largest packet accepted from a server. Default 64 MiB. */
  maxPacketSize?: number;
}

export type ConnectionState = 'new' | 'connecting' | 'up' | 'down' | 'closed';

/** A reply handler: the reply packet, or the error that ended the request. */
export type ReplyHandler = (error: Error | null, packet: Packet | null) => void;

/** What a connection tells its owner. */
export interface ConnectionEvents {
  /** Connected: send the opening packets (options, registrations) now. */
  up(connection: ServerConnection): void;
  /** A packet that answers no request (NOOP, WORK_*). */
  packet(connection: ServerConnection, packet: Packet): void;
  /** The connection was lost (it will be made again unless closed). */
  down(connection: ServerConnection, error: Error): void;
  /** A connection attempt is starting. */
  connecting?(connection: ServerConnection): void;
}

interface Pending {
  readonly expect: PacketName;
  readonly reply: ReplyHandler;
  readonly sentAt: number;
}

/** Replies that answer a request; every other packet from a server is unsolicited. */
const REPLIES = new Set<PacketName>([
  'JOB_CREATED',
  'STATUS_RES',
  'STATUS_RES_UNIQUE',
  'ECHO_RES',
  'OPTION_RES',
  'JOB_ASSIGN',
  'JOB_ASSIGN_UNIQ',
  'JOB_ASSIGN_ALL',
  'NO_JOB',
]);

/**
 * One connection to one Gearman server, made again after a loss with exponential back-off
 * and jitter. Requests are pipelined: replies come in request order (reference §3.15), so
 * the pending requests are a FIFO. Packets written in one turn go out in one write.
 */
export class ServerConnection {
  state: ConnectionState = 'new';
  /** Incremented on every successful connect: jobs taken on an older one are gone. */
  generation = 0;
  private socket: Socket | null = null;
  private decoder: Decoder | null = null;
  private readonly writer = new PacketWriter('REQ');
  private flushScheduled = false;
  private pending: Pending[] = [];
  private pendingHead = 0;
  private attempts = 0;
  private timer: Subscription | null = null;
  private healthTimer: Subscription | null = null;
  private lastReceived = 0;
  private readonly connectTimeout: number;
  private readonly requestTimeout: number;
  private readonly healthCheckInterval: number;
  private readonly reconnectDelay: number;
  private readonly maxReconnectDelay: number;
  private readonly maxPacketSize: number;
  private upWaiters: (() => void)[] = [];

  constructor(
    readonly address: ServerAddress,
    private readonly events: ConnectionEvents,
    private readonly scheduler: SchedulerLike,
    options: ConnectionOptions = {},
  ) {
    this.connectTimeout = options.connectTimeout ?? 5000;
    this.requestTimeout = options.requestTimeout ?? 30_000;
    this.healthCheckInterval = options.healthCheckInterval ?? 15_000;
    this.reconnectDelay = options.reconnectDelay ?? 100;
    this.maxReconnectDelay = options.maxReconnectDelay ?? 10_000;
    this.maxPacketSize = options.maxPacketSize ?? 64 * 1024 * 1024;
  }

  get name(): string {
    return this.address.name;
  }

  get isUp(): boolean {
    return this.state === 'up';
  }

  /** Starts connecting (once); later losses reconnect on their own. */
  open(): void {
    if (this.state === 'new') this.connect();
  }

  /** Resolves when the connection is up (at once if it is) or closed. */
  whenUp(): Promise<void> {
    if (this.state === 'up') return Promise.resolve();
    return new Promise((resolve) => this.upWaiters.push(resolve));
  }

  /** Tries again now if waiting to reconnect (a caller needs this server). */
  kick(): void {
    if (this.state !== 'down') return;
    this.timer?.unsubscribe();
    this.connect();
  }

  /**
   * Sends a request and hands its reply (the packet of type `expect`, or ERROR) to `reply`.
   * When the connection is not up, or is lost before the reply, `reply` gets a
   * {@link ServerLostError}. Encoding errors are thrown.
   */
  request(packet: Packet, expect: PacketName, reply: ReplyHandler): void {
    if (this.state !== 'up') {
      reply(new ServerLostError(this.name), null);
      return;
    }
    this.writer.write(packet);
    this.pending.push({ expect, reply, sentAt: this.scheduler.now() });
    this.scheduleFlush();
  }

  /** Sends a request that the protocol does not answer (CAN_DO, WORK_*, PRE_SLEEP, …). */
  send(packet: Packet): boolean {
    if (this.state !== 'up') return false;
    this.writer.write(packet);
    this.scheduleFlush();
    return true;
  }

  /** Closes for good; pending requests get a ServerLostError. */
  close(): void {
    if (this.state === 'closed') return;
    const wasUp = this.state === 'up';
    this.state = 'closed';
    this.timer?.unsubscribe();
    this.healthTimer?.unsubscribe();
    this.flush();
    const socket = this.socket;
    this.socket = null;
    if (socket !== null) {
      socket.removeAllListeners();
      socket.on('error', () => {});
      socket.end(() => socket.destroy());
    }
    this.failPending(new ServerLostError(this.name));
    if (wasUp) this.events.down(this, new ServerLostError(this.name));
    for (const wake of this.upWaiters.splice(0)) wake();
  }

  private connect(): void {
    this.state = 'connecting';
    this.events.connecting?.(this);
    const socket = createConnection({ host: this.address.host, port: this.address.port });
    socket.setNoDelay(true);
    this.socket = socket;
    this.timer = this.scheduler.schedule(
      () => socket.destroy(new Error(`connect timeout after ${this.connectTimeout} ms`)),
      this.connectTimeout,
    );
    socket.once('connect', () => {
      this.timer?.unsubscribe();
      this.timer = null;
      this.onConnect(socket);
    });
    socket.on('error', (error) => this.lost(socket, error));
    socket.on('close', () => this.lost(socket, new Error('connection closed')));
  }

  private onConnect(socket: Socket): void {
    this.state = 'up';
    this.attempts = 0;
    this.generation++;
    this.lastReceived = this.scheduler.now();
    this.decoder = new Decoder(
      {
        packet: (packet, magic) => {
          if (magic !== 'RES') {
            socket.destroy(new Error('the server sent a request packet'));
            return;
          }
          this.onPacket(packet);
        },
        text: () => socket.destroy(new Error('the server sent text')),
        error: (error: ProtocolError) => socket.destroy(error),
      },
      { text: false, maxPacketSize: this.maxPacketSize },
    );
    socket.on('data', (chunk: Buffer) => {
      this.lastReceived = this.scheduler.now();
      this.decoder?.push(chunk);
    });
    this.scheduleHealthCheck();
    this.events.up(this);
    for (const wake of this.upWaiters.splice(0)) wake();
    this.flush();
  }

  private onPacket(packet: Packet): void {
    if (packet.type === 'ERROR') {
      // JOB_NOT_FOUND answers a WORK_* report for a job the server no longer assigns to
      // us (it timed out or was cancelled): no request waits for it (reference §3.13).
      if (packet.errorCode === 'JOB_NOT_FOUND') return;
      this.settle(packet);
      return;
    }
    if (REPLIES.has(packet.type)) this.settle(packet);
    else this.events.packet(this, packet);
  }

  private settle(packet: Packet): void {
    if (this.pendingHead >= this.pending.length) {
      this.socket?.destroy(new Error(`unexpected ${packet.type} from the server`));
      return;
    }
    const head = this.pending[this.pendingHead]!;
    this.pending[this.pendingHead++] = undefined as unknown as Pending;
    if (this.pendingHead > 1024 && this.pendingHead * 2 > this.pending.length) {
      this.pending = this.pending.slice(this.pendingHead);
      this.pendingHead = 0;
    } else if (this.pendingHead === this.pending.length) {
      this.pending.length = 0;
      this.pendingHead = 0;
    }
    if (packet.type !== 'ERROR' && packet.type !== head.expect && !assignReply(head, packet)) {
      this.socket?.destroy(new Error(`expected ${head.expect}, got ${packet.type}`));
      head.reply(new ServerLostError(this.name), null);
      return;
    }
    head.reply(null, packet);
  }

  private lost(socket: Socket, error: Error): void {
    if (socket !== this.socket) return;
    this.socket = null;
    this.decoder = null;
    this.timer?.unsubscribe();
    this.healthTimer?.unsubscribe();
    socket.removeAllListeners();
    socket.on('error', () => {});
    socket.destroy();
    if (this.state === 'closed') return;
    const wasUp = this.state === 'up';
    this.state = 'down';
    this.writer.flush(); // drop what was never sent
    const lost = new ServerLostError(this.name, error);
    this.failPending(lost);
    if (wasUp) this.events.down(this, lost);
    // Exponential back-off with jitter: base × 2^attempts, capped, then 50–100% of it.
    const base = Math.min(this.maxReconnectDelay, this.reconnectDelay * 2 ** this.attempts);
    this.attempts = Math.min(this.attempts + 1, 30);
    const delay = base * (0.5 + Math.random() * 0.5);
    this.timer = this.scheduler.schedule(() => this.connect(), delay);
  }

  private failPending(error: Error): void {
    const pending = this.pending;
    const head = this.pendingHead;
    this.pending = [];
    this.pendingHead = 0;
    for (let i = head; i < pending.length; i++) pending[i]!.reply(error, null);
  }

  private scheduleFlush(): void {
    if (this.flushScheduled) return;
    this.flushScheduled = true;
    queueMicrotask(() => {
      this.flushScheduled = false;
      this.flush();
    });
  }

  private flush(): void {
    if (this.writer.pending === 0 || this.socket === null || this.state === 'connecting') return;
    const chunks = this.writer.flush();
    const socket = this.socket;
    if (chunks.length === 1) socket.write(chunks[0]!);
    else {
      socket.cork();
      for (const chunk of chunks) socket.write(chunk);
      socket.uncork();
    }
  }

  /**
   * One timer per connection, not one per request: every `interval` it checks that the
   * oldest request is younger than the request timeout, and echoes when all is quiet.
   */
  private scheduleHealthCheck(): void {
    const interval = Math.min(
      this.healthCheckInterval || Infinity,
      this.requestTimeout > 0 ? Math.max(10, this.requestTimeout / 2) : Infinity,
    );
    if (interval === Infinity) return;
    this.healthTimer = this.scheduler.schedule(() => {
      if (this.state !== 'up') return;
      const now = this.scheduler.now();
      const oldest = this.pending[this.pendingHead];
      if (this.requestTimeout > 0 && oldest !== undefined) {
        if (now - oldest.sentAt >= this.requestTimeout) {
          this.socket?.destroy(new Error(`no reply within ${this.requestTimeout} ms`));
          return;
        }
      } else if (
        this.healthCheckInterval > 0 &&
        oldest === undefined &&
        now - this.lastReceived >= this.healthCheckInterval
      ) {
        this.request({ type: 'ECHO_REQ', data: Buffer.from('ping') }, 'ECHO_RES', () => {});
      }
      this.scheduleHealthCheck();
    }, interval);
  }
}

/** GRAB_JOB* is answered by one of several packet types. */
function assignReply(head: Pending, packet: Packet): boolean {
  if (head.expect === 'JOB_ASSIGN_UNIQ' || head.expect === 'JOB_ASSIGN_ALL') {
    return (
      packet.type === 'NO_JOB' || packet.type === 'JOB_ASSIGN_UNIQ' || packet.type === 'JOB_ASSIGN'
    );
  }
  return head.expect === 'JOB_ASSIGN' && packet.type === 'NO_JOB';
}
