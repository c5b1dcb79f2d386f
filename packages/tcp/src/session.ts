import { InvalidArgumentError, type JobServer, type JobUpdate } from '@geartrain/core';
import { type Connection, type JobListener, type SubmitRequest } from '@geartrain/core/transport';
import {
  Decoder,
  errorPacket,
  errorPacketFor,
  wireErrorOf,
  type Magic,
  type Packet,
  type ProtocolError,
  type WireErrorName,
} from '@geartrain/protocol';
import type { Duplex } from 'node:stream';
import type { Subscription } from 'rxjs';
import { AdminCommands } from './admin/index.js';
import type { AdminContext, AdminSettings, PacketContext, SessionHost } from './context.js';
import { HANDLERS } from './handlers/index.js';
import { Output } from './output.js';

/**
 * One Gearman connection: bytes in, packets through the dispatch table into the job server,
 * replies out in order. Binary packets and admin lines may be mixed (reference §1.3). The
 * packet handlers and the admin commands see it through their contexts (context.ts).
 */
export class Session implements JobListener, PacketContext, AdminContext {
  readonly connection: Connection;
  readonly output: Output;
  readonly address: string;
  /** OPTION_REQ `exceptions` (or the server's default). */
  exceptions: boolean;
  private readonly decoder: Decoder;
  private readonly admin: AdminCommands = new AdminCommands(this);
  private closed = false;
  /** When the peer last sent something (scheduler ms), for the idle timeout. */
  private lastActive = 0;
  private idleCheck: Subscription | null = null;

  constructor(
    readonly server: SessionHost,
    readonly stream: Duplex,
    address: string,
  ) {
    this.address = address;
    this.exceptions = server.jobServer.exceptions;
    this.output = new Output(
      stream,
      () => this.backpressure(),
      (error, packet) =>
        server.log.error(
          { err: error, packet: packet.type, connection: this.connection.id },
          'reply dropped',
        ),
    );
    this.connection = server.jobServer.connect({
      address,
      sink: { wake: () => this.output.send({ type: 'NOOP' }) },
    });
    this.decoder = new Decoder(
      {
        packet: (packet, magic) => this.onPacket(packet, magic),
        text: (line) => this.onText(line),
        error: (error) => this.onProtocolError(error),
      },
      {
        maxPacketSize: server.options.maxPacketSize,
        maxLineLength: server.options.maxLineLength,
        fillBudget: server.fillBudget,
      },
    );
    stream.on('data', (chunk: Buffer) => this.onData(chunk));
    // A peer that half-closes after its last requests still gets their replies.
    stream.on('end', () => this.closeAfterFlush());
    stream.on('close', () => this.close());
    stream.on('error', () => this.close());
    this.touch();
  }

  // ------------------------------------------------------------------ JobListener
  // One listener per connection, attached once per foreground submission: a connection that
  // submitted the same unique twice receives every update twice (reference §3.2).

  update(handle: string, update: JobUpdate): void {
    this.output.send(forwarded(handle, update));
  }

  // ------------------------------------------------------------------ input

  private onData(chunk: Buffer): void {
    this.touch();
    try {
      this.decoder.push(chunk);
    } catch (error) {
      // A bug in a handler must not take the server down: drop this connection only.
      this.server.log.error({ err: error, connection: this.connection.id }, 'connection failed');
      this.close();
    }
  }

  private onPacket(packet: Packet, magic: Magic): void {
    if (magic === 'RES') {
      this.sendError('requestMagicExpected');
      return;
    }
    try {
      (HANDLERS[packet.type] as (context: PacketContext, packet: Packet) => void)(this, packet);
    } catch (error) {
      // An argument the job server refuses (a NUL byte in a CAN_DO name, …): a typed ERROR,
      // and the connection goes on. Anything else is a bug: onData drops the connection.
      if (!(error instanceof InvalidArgumentError)) throw error;
      this.output.send(errorPacketFor(error));
    }
  }

  private onText(line: string): void {
    this.admin.execute(line);
  }

  private onProtocolError(error: ProtocolError): void {
    this.server.log.debug?.({ err: error, connection: this.connection.id }, 'protocol error');
    // The wire-error table says what each decoder error is sent as (some are not answered).
    const name = wireErrorOf(error.code);
    if (name !== undefined) this.output.send(errorPacket(name, error.message));
    if (!error.resyncable) this.closeAfterFlush();
  }

  // ------------------------------------------------------------------ contexts

  /** PacketContext: a server closing gracefully hands out no more jobs. */
  get draining(): boolean {
    return this.server.draining;
  }

  /** AdminContext. */
  get jobs(): JobServer {
    return this.server.jobServer;
  }

  /** AdminContext. */
  get settings(): AdminSettings {
    return this.server.options;
  }

  /** AdminContext: the `shutdown` command. */
  shutdown(graceful: boolean): void {
    void this.server.shutdown(graceful);
  }

  sendError(name: WireErrorName): void {
    this.output.send(errorPacket(name));
  }

  /** Submits and answers JOB_CREATED or ERROR, in submission order (reference §2, packet 8). */
  submit(request: SubmitRequest): void {
    let outcome;
    try {
      outcome = this.connection.submit(request, request.background ? undefined : this);
    } catch (error) {
      this.output.send(errorPacketFor(error));
      return;
    }
    if (outcome instanceof Promise) {
      const slot = this.output.reserve();
      outcome.then(
        (accepted) => slot.fill({ type: 'JOB_CREATED', handle: accepted.handle }),
        (error: unknown) => slot.fill(errorPacketFor(error)),
      );
    } else {
      this.output.send({ type: 'JOB_CREATED', handle: outcome.handle });
    }
  }

  /** Closes once what is queued has been written (after a fatal protocol error). */
  closeAfterFlush(): void {
    this.output.flush();
    this.close();
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.idleCheck?.unsubscribe();
    this.decoder.clear();
    this.output.close();
    this.connection.close();
    this.server.forget(this);
    const stream = this.stream;
    if (stream.destroyed) return;
    if (!stream.writable) {
      stream.destroy();
      return;
    }
    // End first so the peer hears of it (a non-socket stream would not on destroy alone);
    // destroy once ended, or after a second if the peer does not read.
    const fallback = this.server.scheduler.schedule(() => stream.destroy(), 1000);
    stream.end(() => {
      fallback.unsubscribe();
      stream.destroy();
    });
  }

  private backpressure(): void {
    // The peer does not read: stop reading from it until its socket drains.
    if (this.stream.isPaused()) return;
    this.stream.pause();
    this.stream.once('drain', () => {
      if (!this.closed) this.stream.resume();
    });
  }

  /**
   * Notes activity for the idle timeout. One timer per connection checks the time since
   * the last packet and re-arms for what is left, so a busy connection sets no timer per
   * packet.
   */
  private touch(): void {
    const timeout = this.server.options.idleTimeout;
    if (timeout <= 0) return;
    this.lastActive = this.server.scheduler.now();
    if (this.idleCheck === null) this.armIdleCheck(timeout, timeout);
  }

  private armIdleCheck(timeout: number, delay: number): void {
    this.idleCheck = this.server.scheduler.schedule(() => {
      this.idleCheck = null;
      const quiet = this.server.scheduler.now() - this.lastActive;
      if (quiet >= timeout) this.close();
      else this.armIdleCheck(timeout, timeout - quiet);
    }, delay);
  }
}

/** The packet a client receives for a job update (reference §3.7). */
export function forwarded(handle: string, update: JobUpdate): Packet {
  switch (update.type) {
    case 'data':
      return { type: 'WORK_DATA', handle, data: update.data };
    case 'warning':
      return { type: 'WORK_WARNING', handle, data: update.data };
    case 'status':
      return {
        type: 'WORK_STATUS',
        handle,
        numerator: String(update.numerator),
        denominator: String(update.denominator),
      };
    case 'complete':
      return { type: 'WORK_COMPLETE', handle, data: update.data };
    case 'exception':
      return { type: 'WORK_EXCEPTION', handle, data: update.data };
    case 'fail':
      // Just the handle: gearmand's WORK_FAIL for a converted exception carried a stray NUL
      // that made libgearman clients wait forever (reference §3.7).
      return { type: 'WORK_FAIL', handle };
  }
}
