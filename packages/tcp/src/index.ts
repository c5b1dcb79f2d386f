export {
  GearmanServer,
  createGearmanServer,
  serve,
  DEFAULT_HOST,
  DEFAULT_PORT,
  VERSION,
  type GearmanServerOptions,
  type ListenOptions,
} from './server.js';
export { Session, forwarded } from './session.js';
export { isLoopback } from './loopback.js';
export { formatPolicy, parsePolicy } from './policy-text.js';
export { parseAddress } from '@geartrain/protocol';
