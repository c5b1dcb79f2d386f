import type { PacketOf } from '@geartrain/protocol';
import type { Session } from '../session.js';

const flag = (value: boolean): string => (value ? '1' : '0');

/** GET_STATUS (reference §3.8): unknown and finished jobs answer 0,0,0,0. */
export function getStatus(session: Session, packet: PacketOf<'GET_STATUS'>): void {
  const status = session.connection.status(packet.handle);
  session.output.send({
    type: 'STATUS_RES',
    handle: packet.handle,
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
export function getStatusUnique(session: Session, packet: PacketOf<'GET_STATUS_UNIQUE'>): void {
  const status = session.connection.statusByUnique(packet.unique);
  session.output.send({
    type: 'STATUS_RES_UNIQUE',
    unique: packet.unique,
    known: flag(status.known),
    running: flag(status.running),
    numerator: String(status.numerator),
    denominator: String(status.denominator),
    clientCount: String(status.clientCount),
  });
}
