import type { ClientOptions, WorkerOptions } from '@geartrain/core';
import type { SchedulerLike } from 'rxjs';
import type { ConnectionOptions } from './connection.js';
import type { ServerSpec } from './servers.js';

// The network client's and worker's options (types only: the module that checks them
// imports neither).

export interface NetworkOptions extends ConnectionOptions {
  /** The servers: `host:port` strings (or one comma-separated string). Default 127.0.0.1:4730. */
  servers?: readonly ServerSpec[] | string;
  /** Timers (timeouts, back-off, health checks); default rxjs `asyncScheduler`. */
  scheduler?: SchedulerLike;
  /**
   * The servers' longest unique id in bytes, named by the `UniqueTooLargeError` a refused
   * submission fails with (the wire does not say it). Default 64, gearmand's and geartrain's.
   */
  maxUniqueLength?: number;
}

export interface GearmanClientOptions extends NetworkOptions, ClientOptions {}

export interface GearmanWorkerOptions extends NetworkOptions, WorkerOptions {}
