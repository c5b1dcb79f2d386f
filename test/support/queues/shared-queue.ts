/**
 * The setup of the `core-shared` vitest project (vitest.config.ts): core's tests make their
 * servers here, each a node of its own shared queue on `@geartrain/testing`'s double, instead
 * of on the local queue. Core's tests cannot import @geartrain/testing (it depends on core:
 * the one-way rule, and a project-reference cycle for tsc), so this module, outside both
 * packages with its own tsconfig, hands them a factory under a global symbol that
 * packages/core/test/helpers.ts reads.
 */
import { createJobServer, type JobServer, type JobServerOptions } from '@geartrain/core';
import { createQueueDouble, settle, type QueueDoubleOptions } from '@geartrain/testing';

/** What packages/core/test/helpers.ts expects under the symbol (its `QueueUnderTest`). */
interface QueueUnderTest {
  readonly name: string;
  server(options: JobServerOptions): JobServer;
  foregroundPrefix(prefix: string): string;
  settled(): Promise<void>;
}

/** The server options that are the whole queue's: the double's server takes them. */
const QUEUE_SETTINGS = [
  'maxRetries',
  'maxQueue',
  'maxUniqueLength',
  'keep',
  'outcomeDataLimit',
  'random',
] as const;

const shared: QueueUnderTest = {
  name: 'shared queue (in-memory double)',
  server(options) {
    const settings: QueueDoubleOptions = {};
    for (const key of QUEUE_SETTINGS) {
      if (options[key] !== undefined) Object.assign(settings, { [key]: options[key] });
    }
    const prefix = options.handlePrefix ?? 'H:t';
    const double = createQueueDouble({
      ...settings,
      // Jobs are the queue's, numbered there as the local queue numbers them.
      handlePrefix: prefix,
      ...(options.scheduler === undefined ? {} : { scheduler: options.scheduler }),
    });
    // A store given too is refused by createJobServer, as it would be in an application.
    return createJobServer({
      ...options,
      handlePrefix: shared.foregroundPrefix(prefix),
      queue: double.node(),
      nodeName: 'core-test',
    });
  },
  // Foreground jobs are the queue's too (decision 36).
  foregroundPrefix: (prefix) => prefix,
  // Every double's round trips answered, and what they set off answered too.
  settled: settle,
};

(globalThis as Record<symbol, unknown>)[Symbol.for('geartrain.test.queueUnderTest')] = shared;
