import type { PacketOf } from '@geartrain/protocol';
import type { Session } from '../session.js';

/** ECHO_REQ: ECHO_RES with the same payload. */
export function echo(session: Session, packet: PacketOf<'ECHO_REQ'>): void {
  session.output.send({ type: 'ECHO_RES', data: packet.data });
}

/**
 * OPTION_REQ (reference §2, packet 26): `exceptions` (any case) is the only option; the reply
 * echoes the name as sent.
 */
export function option(session: Session, packet: PacketOf<'OPTION_REQ'>): void {
  if (packet.option.toLowerCase() !== 'exceptions') {
    session.sendError('unknownOption');
    return;
  }
  session.exceptions = true;
  session.output.send({ type: 'OPTION_RES', option: packet.option });
}

/** SET_CLIENT_ID: shown by the `workers` admin command; gearmand keeps 127 bytes. */
export function setClientId(session: Session, packet: PacketOf<'SET_CLIENT_ID'>): void {
  let id = packet.clientId;
  if (Buffer.byteLength(id) > 127) id = Buffer.from(id).subarray(0, 127).toString('utf8');
  session.connection.clientId = id;
}

/**
 * Packets a client may not send: the server's own replies, the unused number 5, ALL_YOURS and
 * SUBMIT_JOB_SCHED, which gearmand never implemented (reference §2).
 */
export function notExpected(session: Session): void {
  session.sendError('commandNotExpected');
}
