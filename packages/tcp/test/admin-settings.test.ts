// The admin commands `policy`, `limit` and `show functions` read and change each function's
// settings record (issue 30): what `configure` set shows in them, and what they set leaves
// the rest of the record as it was.
import { describe, expect, it } from 'vitest';
import { setup } from './helpers.js';
import { Wire } from './wire.js';

/** Sends one command line and resolves with its reply, which ends with `end`. */
async function ask(admin: Wire, line: string, end: string): Promise<string> {
  const start = admin.raw.length;
  admin.sendRaw(line);
  await admin.until(() => admin.raw.subarray(start).toString().endsWith(end));
  return admin.raw.subarray(start).toString();
}

describe('admin commands on the settings record', () => {
  it('show what configure set', async () => {
    const server = setup();
    const jobs = server.jobServer;
    await jobs.configure('pay', {
      attempts: 3,
      backoff: { type: 'exponential', delay: 500 },
      keep: { completed: { count: 10 } },
      rate: { max: 10, duration: 1000 },
      paused: true,
    });
    await jobs.configure('mail', { maxQueue: 5 });
    const admin = new Wire(server);
    expect(await ask(admin, 'policy pay\r\n', '\n')).toBe(
      'OK attempts=3,backoff=exponential,delay=500,keep-completed=10\n',
    );
    expect(await ask(admin, 'limit pay\r\n', '\n')).toBe('OK rate=10/1000\n');
    // A function with settings of its own is known: it may be limited without `create function`.
    expect(await ask(admin, 'limit mail concurrency=2\r\n', '\r\n')).toBe('OK\r\n');
    expect(await ask(admin, 'show functions\r\n', '.\n')).toBe(
      'mail\tactive\tconcurrency=2\npay\tpaused\trate=10/1000\n.\n',
    );
    // Put back to its default through configure: gone from the listing.
    await jobs.configure('pay', { paused: null, rate: null });
    expect(await ask(admin, 'show functions\r\n', '.\n')).toBe('mail\tactive\tconcurrency=2\n.\n');
  });

  it('change their part of the record and keep the rest', async () => {
    const server = setup();
    const jobs = server.jobServer;
    await jobs.configure('pay', { concurrency: 4, maxQueue: 7, paused: true });
    const admin = new Wire(server);
    expect(await ask(admin, 'policy pay attempts=2,keep-failed=all\r\n', '\r\n')).toBe('OK\r\n');
    expect(await ask(admin, 'limit pay rate=5/1s\r\n', '\r\n')).toBe('OK\r\n');
    expect((await jobs.settings('pay')).configured).toEqual({
      functionName: 'pay',
      attempts: 2,
      // The text form names a back-off whenever it names attempts (policy-text.ts).
      backoff: { type: 'fixed', delay: 0 },
      keep: { failed: { count: Infinity } },
      // `limit` sets both limits: the concurrency not given is removed.
      rate: { max: 5, duration: 1000 },
      maxQueue: { high: 7, normal: 7, low: 7 },
      paused: true,
    });
    expect(await ask(admin, 'policy pay none\r\n', '\r\n')).toBe('OK\r\n');
    expect((await jobs.settings('pay')).configured).toEqual({
      functionName: 'pay',
      rate: { max: 5, duration: 1000 },
      maxQueue: { high: 7, normal: 7, low: 7 },
      paused: true,
    });
    expect(await ask(admin, 'policy pay\r\n', '\n')).toBe('OK none\n');
  });
});
