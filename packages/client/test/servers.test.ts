import { describe, expect, it } from 'vitest';
import { parseServers } from '../src/index.js';
import { HashRing, submitPacket } from '../src/transport.js';

describe('parseServers', () => {
  it('reads host, host:port, [v6]:port, objects and comma-separated lists', () => {
    expect(parseServers('a, b:4731,[::1]:4732').map((s) => s.name)).toEqual([
      'a:4730',
      'b:4731',
      '[::1]:4732',
    ]);
    expect(parseServers([{ host: '::1' }, '127.0.0.1'])).toEqual([
      { host: '::1', port: 4730, name: '[::1]:4730' },
      { host: '127.0.0.1', port: 4730, name: '127.0.0.1:4730' },
    ]);
    expect(parseServers(undefined).map((s) => s.name)).toEqual(['127.0.0.1:4730']);
  });

  it('refuses an empty list, a bad port and a server listed twice, with stable codes', () => {
    expect(() => parseServers([])).toThrow(expect.objectContaining({ code: 'INVALID_ARGUMENT' }));
    expect(() => parseServers('a:99999')).toThrow(
      expect.objectContaining({ code: 'INVALID_ADDRESS' }),
    );
    expect(() => parseServers('a:x')).toThrow(expect.objectContaining({ code: 'INVALID_ADDRESS' }));
    expect(() => parseServers('a,a:4730')).toThrow(
      expect.objectContaining({ code: 'INVALID_ARGUMENT' }),
    );
  });
});

describe('HashRing', () => {
  const names = ['10.0.0.1:4730', '10.0.0.2:4730', '10.0.0.3:4730'];
  const keys = Array.from({ length: 3000 }, (_, i) => `order-${i}`);

  it('spreads keys over the servers evenly enough', () => {
    const ring = new HashRing(names);
    const counts = [0, 0, 0];
    for (const key of keys) counts[ring.lookup(key, () => true)]!++;
    for (const count of counts) expect(count).toBeGreaterThan(700);
  });

  it('gives the same server whatever the order of the list', () => {
    const a = new HashRing(names);
    const reversed = [...names].reverse();
    const b = new HashRing(reversed);
    for (const key of keys.slice(0, 500)) {
      expect(reversed[b.lookup(key, () => true)]).toBe(names[a.lookup(key, () => true)]);
    }
  });

  it('moves only the keys of a server that is down, to the next servers', () => {
    const ring = new HashRing(names);
    let moved = 0;
    for (const key of keys) {
      const before = ring.lookup(key, () => true);
      const after = ring.lookup(key, (i) => i !== 1);
      if (before !== 1) expect(after).toBe(before);
      else {
        expect(after).not.toBe(1);
        moved++;
      }
    }
    expect(moved).toBeGreaterThan(700);
    expect(ring.lookup('x', () => false)).toBe(-1);
  });
});

describe('submitPacket', () => {
  it('picks the SUBMIT_JOB variant from priority, background and runAt', () => {
    const type = (r: Parameters<typeof submitPacket>[0]) => submitPacket(r).type;
    expect(type({ functionName: 'f' })).toBe('SUBMIT_JOB');
    expect(type({ functionName: 'f', priority: 'high' })).toBe('SUBMIT_JOB_HIGH');
    expect(type({ functionName: 'f', priority: 'low' })).toBe('SUBMIT_JOB_LOW');
    expect(type({ functionName: 'f', background: true })).toBe('SUBMIT_JOB_BG');
    expect(type({ functionName: 'f', background: true, priority: 'high' })).toBe(
      'SUBMIT_JOB_HIGH_BG',
    );
    expect(type({ functionName: 'f', background: true, priority: 'low' })).toBe(
      'SUBMIT_JOB_LOW_BG',
    );
  });

  it('sends runAt as whole seconds rounded up, never earlier than asked', () => {
    expect(
      submitPacket({ functionName: 'f', runAt: 1_700_000_000_001, background: true }),
    ).toMatchObject({ type: 'SUBMIT_JOB_EPOCH', epoch: '1700000001' });
    expect(
      submitPacket({ functionName: 'f', runAt: 1_700_000_000_000, background: true }),
    ).toMatchObject({ epoch: '1700000000' });
  });

  it('refuses what cannot be framed with INVALID_ARGUMENT', () => {
    for (const request of [
      { functionName: '' },
      { functionName: 'a\0b' },
      { functionName: 'f', unique: 'u\0' },
    ]) {
      expect(() => submitPacket(request)).toThrow(
        expect.objectContaining({ code: 'INVALID_ARGUMENT' }),
      );
    }
  });
});
