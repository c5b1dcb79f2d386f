import type { JobStatus, UniqueJobStatus } from '@geartrain/core';
import { errorPacketFor, type Packet, type PacketOf } from '@geartrain/protocol';
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

/**
 * A shared queue answers a status request later: the reply waits in its reserved place, so
 * that replies stay in request order; a failed look-up is answered with its ERROR there.
 * (The local queue answers at once: its reply is sent without a Promise or a closure.)
 */
function replyLater<T>(
  context: PacketContext,
  answer: Promise<T>,
  key: string,
  packet: (key: string, status: T) => Packet,
): void {
  const slot = context.output.reserve();
  answer.then(
    (status) => slot.fill(packet(key, status)),
    (error: unknown) => slot.fill(errorPacketFor(error)),
  );
}

function statusRes(handle: string, status: JobStatus): Packet {
  return {
    type: 'STATUS_RES',
    handle,
    known: flag(status.known),
    running: flag(status.running),
    numerator: String(status.numerator),
    denominator: String(status.denominator),
  };
}

function statusResUnique(unique: string, status: UniqueJobStatus): Packet {
  return {
    type: 'STATUS_RES_UNIQUE',
    unique,
    known: flag(status.known),
    running: flag(status.running),
    numerator: String(status.numerator),
    denominator: String(status.denominator),
    clientCount: String(status.clientCount),
  };
}

/** GET_STATUS (reference §3.8): unknown and finished jobs answer 0,0,0,0. */
export function getStatus(context: PacketContext, packet: PacketOf<'GET_STATUS'>): void {
  const handle = cString(packet.handle);
  const status = context.connection.status(handle);
  if (status instanceof Promise) replyLater(context, status, handle, statusRes);
  else context.output.send(statusRes(handle, status));
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
  if (status instanceof Promise) replyLater(context, status, unique, statusResUnique);
  else context.output.send(statusResUnique(unique, status));
}
