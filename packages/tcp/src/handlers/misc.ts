import type { PacketOf } from '@geartrain/protocol';
import type { PacketContext } from '../context.js';

/** ECHO_REQ: ECHO_RES with the same payload. */
export function echo(context: PacketContext, packet: PacketOf<'ECHO_REQ'>): void {
  context.output.send({ type: 'ECHO_RES', data: packet.data });
}

/**
 * OPTION_REQ (reference §2, packet 26): `exceptions` (any case) is the only option; the reply
 * echoes the name as sent.
 */
export function option(context: PacketContext, packet: PacketOf<'OPTION_REQ'>): void {
  if (packet.option.toLowerCase() !== 'exceptions') {
    context.sendError('unknownOption');
    return;
  }
  context.exceptions = true;
  context.output.send({ type: 'OPTION_RES', option: packet.option });
}

/** SET_CLIENT_ID: shown by the `workers` admin command; gearmand keeps 127 bytes. */
export function setClientId(context: PacketContext, packet: PacketOf<'SET_CLIENT_ID'>): void {
  let id = packet.clientId;
  if (Buffer.byteLength(id) > 127) id = Buffer.from(id).subarray(0, 127).toString('utf8');
  context.connection.clientId = id;
}

/**
 * Packets a client may not send: the server's own replies, the unused number 5, ALL_YOURS and
 * SUBMIT_JOB_SCHED, which gearmand never implemented (reference §2).
 */
export function notExpected(context: PacketContext): void {
  context.sendError('commandNotExpected');
}
