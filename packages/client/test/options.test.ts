import { InvalidArgumentError } from '@geartrain/core';
import { describe, expect, it } from 'vitest';
import { createClient, createWorker } from '../src/index.js';

// What createClient, createWorker and the TCP client's submit refuse (decision 31). None of
// these reach a server: the client is pointed at a loopback port and closed at the end.

const bad = (value: unknown) => value as never;
const nowhere = { servers: '127.0.0.1:1', connectTimeout: 50 };

describe('options of the TCP client and worker', () => {
  it('refuses keys createClient and createWorker do not know, with a did-you-mean', () => {
    expect(() => createClient(bad({ server: '127.0.0.1:1' }))).toThrow(
      new InvalidArgumentError(
        "unknown option 'server' in client options (did you mean 'servers'?)",
      ),
    );
    expect(() => createWorker(bad({ ...nowhere, clientID: 'w' }))).toThrow(
      /unknown option 'clientID' in worker options \(did you mean 'clientId'\?\)/,
    );
    // A worker option is not a client option, and the reverse.
    expect(() => createClient(bad({ ...nowhere, maxJobs: 1 }))).toThrow(InvalidArgumentError);
    expect(() => createWorker(bad({ ...nowhere, exceptions: true }))).toThrow(InvalidArgumentError);
  });

  it('refuses a bad priority and an unknown submit key before anything is sent', async () => {
    const client = createClient(nowhere);
    try {
      // Over the wire 'urgent' used to go out as a normal-priority SUBMIT_JOB.
      await expect(client.submit('f', 'x', { priority: bad('urgent') })).rejects.toThrow(
        "priority must be 'high', 'normal' or 'low', not 'urgent'",
      );
      await expect(client.run('f', 'x', bad({ delai: 5 }))).rejects.toThrow(
        "unknown option 'delai' in submit options (did you mean 'delay'?)",
      );
      await expect(client.runAll([{ functionName: 'f', priority: bad(3) }])).rejects.toThrow(
        /^priority must be/,
      );
    } finally {
      client.close();
    }
  });

  it('closes a worker with close(), and still with the deprecated stop()', async () => {
    for (const end of ['close', 'stop'] as const) {
      const worker = createWorker(nowhere);
      worker.register('f', () => 'x');
      const after: string[] = [];
      worker.events$.subscribe((e) => after.push(e.type));
      await (end === 'close' ? worker.close({ timeout: 0 }) : worker.stop({ timeout: 0 }));
      expect(after).toContain('afterRun');
    }
  });
});
