// @geartrain/client/transport: the pieces the TCP client and worker are made of, for
// adapters and tests that speak Gearman at a lower level (a pipelined server connection, the
// server set, the consistent-hash ring). Applications use the package's main entry.
export { ClientCluster, submitPacket } from './client.js';
export {
  ServerConnection,
  type ConnectionEvents,
  type ConnectionOptions,
  type ConnectionState,
  type ReplyHandler,
} from './connection.js';
export { HashRing } from './servers.js';
