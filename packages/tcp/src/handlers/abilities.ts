import type { PacketOf } from '@geartrain/protocol';
import type { PacketContext } from '../context.js';
import { cInteger } from './c-integer.js';

/** CAN_DO (reference §2, packet 1): registers a function; repeating it changes nothing. */
export function canDo(context: PacketContext, packet: PacketOf<'CAN_DO'>): void {
  context.connection.canDo(packet.functionName);
}

/**
 * CAN_DO_TIMEOUT (reference §3.6): a registration whose jobs fail after TIMEOUT
 * milliseconds. gearmand's parsing: `strtol`, non-numeric is 0 (no timeout), 1-999 become
 * 1000. A value over 20 characters got no reply at all from gearmand; here an ERROR.
 */
export function canDoTimeout(context: PacketContext, packet: PacketOf<'CAN_DO_TIMEOUT'>): void {
  if (packet.timeout.length > 20) {
    context.output.send({
      type: 'ERROR',
      errorCode: 'ARGUMENT_TOO_LARGE',
      errorText: 'Timeout value too large',
    });
    return;
  }
  let timeout = Number(cInteger(packet.timeout));
  if (!(timeout > 0)) timeout = 0;
  else if (timeout < 1000) timeout = 1000;
  context.connection.canDo(packet.functionName, { timeout });
}

/** CANT_DO: its jobs held by this connection go back to the queue. */
export function cantDo(context: PacketContext, packet: PacketOf<'CANT_DO'>): void {
  context.connection.cantDo(packet.functionName);
}

/** RESET_ABILITIES. */
export function resetAbilities(context: PacketContext): void {
  context.connection.resetAbilities();
}
