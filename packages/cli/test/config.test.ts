// The config file's settings of functions (issue 30): its sections and the --job-policy
// flags merged into one record per function, checked entry by entry, applied in one
// `configure` call per function; all without spawning the command.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { createJobServer, MemoryJobStore, type JobServer } from '@geartrain/core';
import { applyConfig, checkConfig, readConfig, settingsOf } from '../src/config.js';

const dir = mkdtempSync(join(tmpdir(), 'geartrain-config-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
let files = 0;
function file(content: unknown): string {
  const path = join(dir, `${++files}.json`);
  writeFileSync(path, JSON.stringify(content));
  return path;
}

const servers: JobServer[] = [];
function server(store = new MemoryJobStore()): JobServer {
  const s = createJobServer({ store, releaseMemory: false });
  servers.push(s);
  return s;
}
afterEach(async () => {
  for (const s of servers.splice(0)) await s.close({ timeout: 0 });
});

const CONFIG = {
  functions: {
    charge: { concurrency: 5, maxQueue: 1000, paused: false },
    report: { paused: true },
  },
  jobPolicies: { charge: { attempts: 3, keep: { failed: { count: 10 } } } },
  limits: { charge: { rate: { max: 10, duration: 1000 } } },
};

describe('settings of functions in the config file', () => {
  it('merges the sections and the flags into one record per function', () => {
    const config = readConfig(file(CONFIG));
    const merged = settingsOf(config, { report: { attempts: 2 } });
    expect(Object.fromEntries(merged)).toEqual({
      charge: {
        // jobPolicies: the whole policy (backoff put back to its default).
        attempts: 3,
        backoff: null,
        keep: { failed: { count: 10 } },
        // limits: both, the concurrency then set by `functions`, which comes after.
        rate: { max: 10, duration: 1000 },
        concurrency: 5,
        maxQueue: 1000,
        paused: false,
      },
      // A flag's policy comes after the file's sections.
      report: { paused: true, attempts: 2, backoff: null, keep: null },
    });
  });

  it('applies one configure call per function, which the store keeps', async () => {
    const config = readConfig(file(CONFIG));
    const store = new MemoryJobStore();
    const first = server(store);
    await first.ready;
    // A setting the file does not name stays as the store kept it.
    await first.configure('charge', { backoff: 100 });
    const calls: string[] = [];
    const configure = first.configure.bind(first);
    first.configure = (name, changes) => {
      calls.push(name);
      return configure(name, changes);
    };
    await applyConfig(first, config, {});
    expect(calls).toEqual(['charge', 'report']);
    const expected = [
      {
        functionName: 'charge',
        attempts: 3,
        keep: { failed: { count: 10 } },
        rate: { max: 10, duration: 1000 },
        concurrency: 5,
        maxQueue: { high: 1000, normal: 1000, low: 1000 },
      },
      { functionName: 'report', paused: true },
    ];
    expect((await first.configured()).map((s) => s.configured)).toEqual(expected);
    await first.close();
    const second = server(store);
    await second.ready;
    expect((await second.configured()).map((s) => s.configured)).toEqual(expected);
  });

  it('names the entry, or the flag, of a value the server refuses', async () => {
    const refusal = async (content: unknown, flags = {}) => {
      const path = file(content);
      const dry = server();
      return checkConfig(dry, readConfig(path), flags, path).then(
        () => 'accepted',
        (error: Error) => error.message.replace(path, 'FILE'),
      );
    };
    expect(await refusal({ functions: { charge: { concurrency: 0 } } })).toBe(
      'config FILE: functions.charge: concurrency must be a whole number ≥ 1',
    );
    expect(await refusal({ functions: { charge: { keep: { failed: { count: -1 } } } } })).toBe(
      'config FILE: functions.charge.keep.failed.count must be a whole number ≥ 0',
    );
    expect(await refusal({ functions: { charge: { concurency: 1 } } })).toMatch(
      /^config FILE: functions\.charge: unknown option 'concurency' in settings \(did you mean 'concurrency'\?\)$/,
    );
    expect(await refusal({ jobPolicies: { charge: { keep: { failed: { count: 'all' } } } } })).toBe(
      'config FILE: jobPolicies.charge.keep.failed.count must be a whole number ≥ 0',
    );
    expect(await refusal({ limits: { charge: { concurrency: 1.5 } } })).toBe(
      'config FILE: limits.charge: concurrency must be a whole number ≥ 1',
    );
    expect(await refusal({}, { charge: { attempts: 0 } })).toBe(
      '--job-policy charge: attempts must be a whole number ≥ 1',
    );
    expect(await refusal(CONFIG, { charge: { attempts: 4 } })).toBe('accepted');
  });

  it('refuses a setting the older sections do not have, rather than dropping it', () => {
    expect(() => readConfig(file({ jobPolicies: { charge: { attempt: 3 } } }))).toThrow(
      /jobPolicies\.charge: unknown setting 'attempt' \(attempts, backoff, keep\)$/,
    );
    expect(() => readConfig(file({ limits: { charge: { paused: true } } }))).toThrow(
      /limits\.charge: unknown setting 'paused' \(rate, concurrency\)$/,
    );
    expect(() => readConfig(file({ function: {} }))).toThrow(
      /unknown section 'function' \(functions, jobPolicies, limits, schedules\)$/,
    );
  });
});
