export {
  ClientCluster,
  GearmanClient,
  createClient,
  submitPacket,
  type GearmanClientOptions,
  type NetworkOptions,
} from './client.js';
export { GearmanWorker, createWorker, type GearmanWorkerOptions } from './worker.js';
export {
  ServerConnection,
  type ConnectionEvents,
  type ConnectionOptions,
  type ConnectionState,
  type ReplyHandler,
} from './connection.js';
export { ClientClosedError, NoServerError, ServerError, ServerLostError } from './errors.js';
export {
  DEFAULT_PORT,
  HashRing,
  parseServers,
  type ServerAddress,
  type ServerSpec,
} from './servers.js';
