import { knownKeys } from '@geartrain/core/transport';
import type { GearmanClientOptions, GearmanWorkerOptions } from './options.js';

// The keys createClient and createWorker accept (decision 31: a key not listed is refused).
// `knownKeys` holds each list to its type, so the two cannot drift apart.

const NETWORK = {
  servers: true,
  scheduler: true,
  maxUniqueLength: true,
  connectTimeout: true,
  requestTimeout: true,
  healthCheckInterval: true,
  reconnectDelay: true,
  maxReconnectDelay: true,
  maxPacketSize: true,
} as const;

export const CLIENT_KEYS = knownKeys<GearmanClientOptions>({ ...NETWORK, exceptions: true });

export const WORKER_KEYS = knownKeys<GearmanWorkerOptions>({
  ...NETWORK,
  clientId: true,
  autorun: true,
  maxJobs: true,
  maxRunTime: true,
  memoryLimit: true,
  measureMemory: true,
  logger: true,
  policies: true,
});
