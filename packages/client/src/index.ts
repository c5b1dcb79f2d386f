// @geartrain/client: a Gearman client and worker over TCP, for geartrain and gearmand alike.
// Its building blocks are in @geartrain/client/transport.
export {
  GearmanClient,
  createClient,
  type GearmanClientOptions,
  type NetworkOptions,
} from './client.js';
export { GearmanWorker, createWorker, type GearmanWorkerOptions } from './worker.js';
export { ClientClosedError, NoServerError, ServerError, ServerLostError } from './errors.js';
export { DEFAULT_PORT, parseServers, type ServerAddress, type ServerSpec } from './servers.js';
