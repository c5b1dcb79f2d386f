import type { PacketOf } from './packets.js';

/**
 * The ERROR packets gearmand sends, with its exact code and text (reference §3.13).
 * libgearman maps the code string back to its return codes by name, so these strings are
 * part of the protocol.
 */
export const WIRE_ERRORS = {
  /** A packet type a client or worker may not send (5, 24, 35 and server-only types). */
  commandNotExpected: { errorCode: 'INVALID_COMMAND', errorText: 'Command not expected' },
  /** A `\0RES` packet sent to the server. */
  requestMagicExpected: { errorCode: 'INVALID_MAGIC', errorText: 'Request magic expected' },
  uniqueTooLarge: { errorCode: 'ARGUMENT_TOO_LARGE', errorText: 'Unique value too large' },
  queueFull: { errorCode: 'QUEUE_ERROR', errorText: 'Job queue is full' },
  unknownOption: {
    errorCode: 'UNKNOWN_OPTION',
    errorText: 'Server does not recognize given option',
  },
  /** WORK_STATUS, WORK_COMPLETE or WORK_FAIL for a job the connection does not hold. */
  workResultJobNotFound: {
    errorCode: 'JOB_NOT_FOUND',
    errorText: 'Job given in work result not found',
  },
  /** WORK_DATA or WORK_WARNING for a job the connection does not hold. */
  workDataJobNotFound: { errorCode: 'JOB_NOT_FOUND', errorText: 'Job does not exist on server' },
  /** WORK_EXCEPTION for a job the connection does not hold. */
  workExceptionJobNotFound: {
    errorCode: 'JOB_NOT_FOUND',
    errorText: 'An exception was received for a job that does not exist',
  },
  handleTooLarge: {
    errorCode: 'ARGUMENT_TOO_LARGE',
    errorText: 'Error occurred due to GEARMAND_JOB_HANDLE_SIZE being too small from snprintf',
  },
} as const satisfies Record<string, { errorCode: string; errorText: string }>;

export type WireErrorName = keyof typeof WIRE_ERRORS;

/** The ERROR packet for one of {@link WIRE_ERRORS}. */
export function errorPacket(name: WireErrorName): PacketOf<'ERROR'> {
  return { type: 'ERROR', ...WIRE_ERRORS[name] };
}
