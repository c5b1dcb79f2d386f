import type { PacketOf } from '@geartrain/protocol';
import type { PacketContext } from '../context.js';

const flag = (value: boolean): string => (value ? '1' : '0');

/**
 * The handle or unique id as gearmand reads it: a C string, up to the first NUL. (The last
 * argument of a packet may hold NULs; echoed as the first argument of the reply it could
 * not be framed.)
 */
function cString(text: string): string {
  const nul = text.indexOf('\0');
  return nul === -1 ? text : text.slice(0, nul);
}

/** GET_STATUS (reference §3.8): unknown and finished jobs answer 0,0,0,0. */
export function getStatus(context: PacketContext, packet: PacketOf<'GET_STATUS'>): void {
  const handle = cString(packet.handle);
  const status = context.connection.status(handle);
  context.output.send({
    type: 'STATUS_RES',
    handle,
    known: flag(status.known),
    running: flag(status.running),
    numerator: String(status.numerator),
    denominator: String(status.denominator),
  });
}

/**
 * GET_STATUS_UNIQUE (reference §3.8): by unique id across functions, with the number of
 * attached foreground submissions.
 */
export function getStatusUnique(
  context: PacketContext,
  packet: PacketOf<'GET_STATUS_UNIQUE'>,
): void {
  const unique = cString(packet.unique);
  const status = context.connection.statusByUnique(unique);
  context.output.send({
    type: 'STATUS_RES_UNIQUE',
    unique,
    known: flag(status.known),
    running: flag(status.running),
    numerator: String(status.numerator),
    denominator: String(status.denominator),
    clientCount: String(status.clientCount),
  });
}
