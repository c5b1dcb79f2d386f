import { GeartrainError } from './errors.js';

/** A host and port as written by users: `host`, `host:port`, `[v6]:port`, `[v6]` or `::1`. */
export interface ParsedAddress {
  readonly host: string;
  /** Undefined when the text gives none. */
  readonly port: number | undefined;
}

/** An address that cannot be parsed (a port that is not a number from 0 to 65535). */
export class InvalidAddressError extends GeartrainError<'INVALID_ADDRESS'> {
  constructor(readonly address: string) {
    super('INVALID_ADDRESS', `invalid port in ${address}`);
  }
}

/**
 * Parses `host`, `host:port`, `[v6]:port`, `[v6]` or a bare IPv6 address such as `::1`
 * (what gearmand's `--listen` and every Gearman client's server list accept).
 * @throws InvalidAddressError
 */
export function parseAddress(text: string): ParsedAddress {
  const bracketed = /^\[([^\]]+)\](?::(\d+))?$/.exec(text);
  if (bracketed !== null) {
    return { host: bracketed[1]!, port: portOf(text, bracketed[2]) };
  }
  const colons = text.split(':').length - 1;
  if (colons === 1) {
    const [host, port] = text.split(':') as [string, string];
    return { host, port: portOf(text, port) };
  }
  return { host: text, port: undefined };
}

function portOf(text: string, port: string | undefined): number | undefined {
  if (port === undefined) return undefined;
  const value = Number(port);
  if (!/^\d+$/.test(port) || value > 65535) throw new InvalidAddressError(text);
  return value;
}
