import type { JobServer, LoggerLike } from '@geartrain/core';
import type { Connection, SubmitRequest } from '@geartrain/core/transport';
import type { AdminCommand, FillBudget, Packet, WireErrorName } from '@geartrain/protocol';
import type { SchedulerLike } from 'rxjs';
import type { Slot } from './output.js';

// What the two dispatch tables may use of a connection: the packet handlers (handlers/) and
// the admin commands (admin/). A Session is both; the tables see only these, so that they
// do not depend on the session that calls them. And what a session uses of its server
// (GearmanServer), so that neither module imports the other both ways.

/** A connection's replies, in request order (output.ts). */
export interface Replies {
  send(packet: Packet): void;
  /** An admin reply: it reaches the peer in one write. */
  sendText(text: string): void;
  /** A place among the replies for an answer that comes later (a store write, a shared queue). */
  reserve(): Slot;
  /** Writes what is queued now. */
  flush(): void;
}

/** What a packet handler may use: the job server's connection and the replies. */
export interface PacketContext {
  readonly connection: Connection;
  readonly output: Replies;
  /** OPTION_REQ `exceptions` (or the server's default). */
  exceptions: boolean;
  /** True while a graceful close waits for held jobs: no new assignments. */
  readonly draining: boolean;
  /** An ERROR packet with gearmand's code and text. */
  sendError(name: WireErrorName): void;
  /** Submits, and answers JOB_CREATED or ERROR in submission order. */
  submit(request: SubmitRequest): void;
}

/** The server settings admin commands answer with or obey. */
export interface AdminSettings {
  readonly version: string;
  readonly verbose: string;
  readonly allowRemoteShutdown: boolean;
  readonly allowRemoteAdmin: boolean;
}

/** What an admin command may use: the job server, the replies, and who asks. */
export interface AdminContext {
  readonly jobs: JobServer;
  readonly output: Replies;
  /** The peer's address, for the commands only loopback may give. */
  readonly address: string;
  readonly settings: AdminSettings;
  /** The `shutdown` command: at once, or letting running jobs finish. */
  shutdown(graceful: boolean): void;
}

/** The parsed admin command of one name. */
export type AdminCommandOf<N extends AdminCommand['name']> = Extract<
  AdminCommand,
  { readonly name: N }
>;

/** The settings a session reads of its server. */
export interface SessionSettings extends AdminSettings {
  readonly maxPacketSize: number;
  readonly maxLineLength: number;
  readonly idleTimeout: number;
}

/** What a session uses of the server that accepted it (a GearmanServer). */
export interface SessionHost {
  readonly jobServer: JobServer;
  readonly options: SessionSettings;
  readonly log: LoggerLike;
  /** The job server's scheduler: the session's timers (idle, close) run on it. */
  readonly scheduler: SchedulerLike;
  /** Shared by the sessions' decoders (GearmanServerOptions.largeBodyBudget). */
  readonly fillBudget: FillBudget;
  readonly draining: boolean;
  shutdown(graceful: boolean): Promise<void>;
  /** The session ended. */
  forget(session: object): void;
}
