export { VirtualClock, settle } from './clock.js';
export {
  TestServer,
  createTestServer,
  type FinishedJob,
  type LimitWait,
  type ScheduledTick,
  type RetriedAttempt,
  type TestServerOptions,
} from './test-server.js';
export {
  runJob,
  type JobOutcome,
  type JobRun,
  type Report,
  type RunJobOptions,
} from './run-job.js';
export {
  FakeClient,
  createFakeClient,
  type FakeClientOptions,
  type FakeOutcome,
  type Submission,
} from './fake-client.js';
export {
  describeJobStoreContract,
  type StoreContractOptions,
  type SuiteApi,
} from './store-contract.js';
export {
  describeQueueBehaviour,
  type MakePeer,
  type MakeServer,
  type QueueBehaviourOptions,
} from './queue-behaviour.js';
export { Loopback, createLoopback, type Received, type StreamServer } from './loopback.js';
export { QueueDouble, createQueueDouble, type QueueDoubleOptions } from './queue-double.js';
