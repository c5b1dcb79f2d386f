import { InvalidArgumentError } from '@geartrain/core';
import { parseAddress } from '@geartrain/protocol';
import { createHash } from 'node:crypto';

/** Gearman's port. */
export const DEFAULT_PORT = 4730;

/** One server of a list, as `host:port` (IPv6 as `[::1]:4730`). */
export interface ServerAddress {
  readonly host: string;
  readonly port: number;
  /** `host:port`, the name used in errors, events and for hashing. */
  readonly name: string;
}

/** A server given as `host`, `host:port`, `[v6]:port`, or `{ host, port }`. */
export type ServerSpec = string | { host: string; port?: number };

/** Parses a server list: an array, or one string of comma-separated addresses. */
export function parseServers(servers: readonly ServerSpec[] | string | undefined): ServerAddress[] {
  const list =
    servers === undefined
      ? ['127.0.0.1']
      : typeof servers === 'string'
        ? servers.split(',').map((s) => s.trim())
        : servers;
  if (list.length === 0) throw new InvalidArgumentError('give at least one server');
  const seen = new Set<string>();
  return list.map((spec) => {
    const { host, port } =
      typeof spec === 'string' ? parseAddress(spec) : { host: spec.host, port: spec.port };
    const resolved = port ?? DEFAULT_PORT;
    if (host === '' || !Number.isInteger(resolved) || resolved <= 0 || resolved > 65535) {
      throw new InvalidArgumentError(`invalid server address ${JSON.stringify(spec)}`);
    }
    const name = host.includes(':') ? `[${host}]:${resolved}` : `${host}:${resolved}`;
    if (seen.has(name)) throw new InvalidArgumentError(`server ${name} is listed twice`);
    seen.add(name);
    return { host, port: resolved, name };
  });
}

/** Points per server on the ring (ketama's 160: an even spread with few servers). */
const POINTS_PER_SERVER = 160;

/**
 * A consistent-hash ring (ketama-style, MD5): a key maps to the first server point at or
 * after its hash, so adding or losing one server moves only that server's share of keys.
 * Lookups skip servers that are down by walking on to the next point.
 */
export class HashRing {
  private readonly points: Uint32Array;
  private readonly owners: Uint16Array;

  constructor(names: readonly string[]) {
    const entries: [number, number][] = [];
    names.forEach((name, index) => {
      for (let i = 0; i < POINTS_PER_SERVER / 4; i++) {
        const digest = createHash('md5').update(`${name}-${i}`).digest();
        for (let k = 0; k < 4; k++) entries.push([digest.readUInt32LE(k * 4), index]);
      }
    });
    entries.sort((a, b) => a[0] - b[0] || a[1] - b[1]);
    this.points = Uint32Array.from(entries, (e) => e[0]);
    this.owners = Uint16Array.from(entries, (e) => e[1]);
  }

  /** The index of the server that owns `key`, skipping those `usable` rejects; -1 if none. */
  lookup(key: string, usable: (index: number) => boolean): number {
    const hash = createHash('md5').update(key).digest().readUInt32LE(0);
    const points = this.points;
    let low = 0;
    let high = points.length;
    while (low < high) {
      const mid = (low + high) >>> 1;
      if (points[mid]! < hash) low = mid + 1;
      else high = mid;
    }
    for (let i = 0; i < points.length; i++) {
      const owner = this.owners[(low + i) % points.length]!;
      if (usable(owner)) return owner;
    }
    return -1;
  }
}
