import type { JobServer, LoggerLike } from '@geartrain/core';
import { checkJobServer, checkOptions, untilDeadline } from '@geartrain/core/transport';
import { DEFAULT_MAX_LINE_LENGTH, DEFAULT_MAX_PACKET_SIZE, FillBudget } from '@geartrain/protocol';
import { once } from 'node:events';
import { createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import type { SchedulerLike } from 'rxjs';
import type { SessionHost, SessionSettings } from './context.js';
import { Session } from './session.js';

export const DEFAULT_PORT = 4730;
export const DEFAULT_HOST = '127.0.0.1';
const DEFAULT_LARGE_BODY_BUDGET = 32 * 1024 * 1024;
/** What the `version` admin command answers. */
export const VERSION = '0.1.0';

export interface GearmanServerOptions {
  /** Largest packet payload accepted, bytes. Default 64 MiB. */
  maxPacketSize?: number;
  /**
   * Bytes that large payloads (256 KiB and up) may be allocated ahead of their arrival, so
   * that each read is copied into place as it comes rather than all joined at the end;
   * shared by every connection, which bounds what peers that send headers and stall can
   * make the server allocate. 0 turns it off. Default 32 MiB.
   */
  largeBodyBudget?: number;
  /** Longest admin line, bytes. Default 8192, as gearmand. */
  maxLineLength?: number;
  /** Connections accepted at once by `listen()`; more are refused. Default: no limit. */
  maxConnections?: number;
  /** Close a connection silent for this many ms. Default 0: never. */
  idleTimeout?: number;
  /** TCP keepalive on accepted sockets: `true`, or the initial delay in ms. Default off. */
  keepAlive?: boolean | number;
  /** The `version` admin reply. */
  version?: string;
  /** The `verbose` admin reply (FATAL … DEBUG). Default ERROR, as gearmand. */
  verbose?: string;
  /** Accept the `shutdown` admin command from other hosts than loopback. Default false. */
  allowRemoteShutdown?: boolean;
  /**
   * Accept geartrain's own admin commands that change the server (`retry job`, `discard`,
   * `policy FN …`, `pause`, `resume`, `limit FN …`, `schedule add/remove`) from other hosts
   * than loopback. Default false: the port has no authentication, and the dashboard asks a
   * token for the same actions. gearmand's own commands (`cancel job`, `create`/`drop
   * function`, `maxqueue`) are accepted from anyone, as gearmand accepts them.
   */
  allowRemoteAdmin?: boolean;
  /** How long `shutdown graceful` lets running jobs finish, ms. Default 30 s. */
  shutdownTimeout?: number;
  /** Called once an admin `shutdown` has closed everything (the command exits there). */
  onShutdown?: () => void;
  logger?: LoggerLike;
}

export interface ListenOptions {
  /** Address to bind; `::1` or `[::1]` for IPv6. Default 127.0.0.1. */
  host?: string;
  /** Port; 0 picks a free one. Default 4730. */
  port?: number;
}

/** Every option with its default; what sessions read of them is SessionSettings. */
interface ResolvedOptions extends SessionSettings {
  readonly maxConnections: number;
  readonly keepAlive: boolean | number;
  readonly shutdownTimeout: number;
}

const SILENT: LoggerLike = { info: () => undefined, warn: () => undefined, error: () => undefined };

/**
 * Gearman over TCP for a job server: serves connections given as any duplex stream
 * (`handle`), or accepted on a port (`listen`).
 */
export class GearmanServer implements SessionHost {
  readonly options: ResolvedOptions;
  readonly log: LoggerLike;
  /** Shared by the sessions' decoders (GearmanServerOptions.largeBodyBudget). */
  readonly fillBudget: FillBudget;
  private readonly sessions = new Set<Session>();
  private netServer: Server | null = null;
  private readonly onShutdown: (() => void) | undefined;
  private shuttingDown: Promise<void> | null = null;

  constructor(
    readonly jobServer: JobServer,
    options: GearmanServerOptions = {},
  ) {
    checkJobServer(jobServer);
    checkOptions(options);
    this.scheduler = jobServer.scheduler;
    this.options = {
      maxPacketSize: options.maxPacketSize ?? DEFAULT_MAX_PACKET_SIZE,
      maxLineLength: options.maxLineLength ?? DEFAULT_MAX_LINE_LENGTH,
      maxConnections: options.maxConnections ?? Infinity,
      idleTimeout: options.idleTimeout ?? 0,
      keepAlive: options.keepAlive ?? false,
      version: options.version ?? VERSION,
      verbose: options.verbose ?? 'ERROR',
      allowRemoteShutdown: options.allowRemoteShutdown ?? false,
      allowRemoteAdmin: options.allowRemoteAdmin ?? false,
      shutdownTimeout: options.shutdownTimeout ?? 30_000,
    };
    this.log = options.logger ?? SILENT;
    this.onShutdown = options.onShutdown;
    // FillBudget refuses a negative or NaN size (RangeError).
    this.fillBudget = new FillBudget(options.largeBodyBudget ?? DEFAULT_LARGE_BODY_BUDGET);
  }

  /** Open Gearman connections. */
  get connections(): number {
    return this.sessions.size;
  }

  /** Serves one connection given as any duplex stream (a socket, one end of `duplexPair()`). */
  handle(stream: Duplex, address = 'stream'): Session {
    const session = new Session(this, stream, address);
    this.sessions.add(session);
    return session;
  }

  /** Accepts connections on a TCP port; resolves with the bound address. */
  async listen(options: ListenOptions = {}): Promise<AddressInfo> {
    if (this.netServer !== null) throw new Error('already listening');
    const host = (options.host ?? DEFAULT_HOST).replace(/^\[(.*)\]$/, '$1');
    const port = options.port ?? DEFAULT_PORT;
    const server = createServer({ noDelay: true }, (socket) => this.accept(socket));
    if (Number.isFinite(this.options.maxConnections))
      server.maxConnections = this.options.maxConnections;
    server.on('error', (error) => this.log.error({ err: error }, 'listener failed'));
    this.netServer = server;
    server.listen({ host, port });
    await Promise.race([
      once(server, 'listening'),
      once(server, 'error').then(([error]) => {
        this.netServer = null;
        throw error as Error;
      }),
    ]);
    const address = server.address() as AddressInfo;
    this.log.info({ host: address.address, port: address.port }, 'listening');
    return address;
  }

  /** The bound address, once listening. */
  get address(): AddressInfo | null {
    return (this.netServer?.address() as AddressInfo | null) ?? null;
  }

  /**
   * Stops accepting, then closes every connection. With a `timeout`, it is graceful: no more
   * jobs are assigned over TCP, and workers get up to `timeout` ms to finish the jobs they
   * hold before their connections close (jobs still held then go back to the queue). The job
   * server itself stays open; close it first for a stop of the whole process.
   */
  async close(options: { timeout?: number } = {}): Promise<void> {
    const server = this.netServer;
    this.netServer = null;
    server?.close();
    const timeout = options.timeout ?? 0;
    if (timeout > 0) {
      this.draining = true;
      // Until every TCP connection has handed in its jobs (the engine says when), or the
      // deadline on the job server's scheduler.
      const handedIn = Promise.all([...this.sessions].map((s) => s.connection.whenEmptyHanded()));
      await untilDeadline(handedIn, this.scheduler, timeout);
    }
    for (const session of [...this.sessions]) session.closeAfterFlush();
    if (server !== null) await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  /** The job server's scheduler: every timer of the TCP server (idle, close) runs on it. */
  readonly scheduler: SchedulerLike;

  /** True while a graceful close waits for held jobs: no new assignments over TCP. */
  draining = false;

  /**
   * The `shutdown` admin command: at once, or `graceful` (running jobs get `shutdownTimeout`
   * ms). The listener closes first, then the job server, then the connections.
   */
  shutdown(graceful: boolean): Promise<void> {
    this.shuttingDown ??= (async () => {
      this.log.info({ graceful }, 'shutdown requested');
      const server = this.netServer;
      if (server !== null) server.close();
      await this.jobServer.close({ timeout: graceful ? this.options.shutdownTimeout : 0 });
      await this.close();
      this.onShutdown?.();
    })();
    return this.shuttingDown;
  }

  /** @internal A session ended. */
  forget(session: Session): void {
    this.sessions.delete(session);
  }

  private accept(socket: Socket): void {
    const keepAlive = this.options.keepAlive;
    if (keepAlive !== false) socket.setKeepAlive(true, keepAlive === true ? 0 : keepAlive);
    this.handle(socket, socket.remoteAddress ?? 'unknown');
  }
}

/** Wraps a job server for Gearman over TCP (call `listen` or `handle`). */
export function createGearmanServer(
  jobServer: JobServer,
  options?: GearmanServerOptions,
): GearmanServer {
  return new GearmanServer(jobServer, options);
}

/** Exposes a job server on a TCP port in one call. */
export async function serve(
  jobServer: JobServer,
  options: GearmanServerOptions & ListenOptions = {},
): Promise<GearmanServer> {
  const server = new GearmanServer(jobServer, options);
  await server.listen(options);
  return server;
}
