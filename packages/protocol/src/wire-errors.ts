import { GeartrainError } from './errors.js';
import type { PacketOf } from './packets.js';

interface WireErrorEntry {
  /** The ERROR packet's code, as gearmand sends it (libgearman maps it back by name). */
  readonly errorCode: string;
  /** Its text; `null` means the geartrain error's own message. */
  readonly errorText: string | null;
  /** The `code` of the geartrain error that is sent as this ERROR, and that it is read as. */
  readonly code: string | null;
}

/**
 * The one table between geartrain's typed errors and Gearman ERROR packets (reference
 * §3.13), read both ways: the server sends the entry of an error's `code`, the client reads
 * an ERROR back into that code (first entry whose code and text match; a `null` text matches
 * any). Codes and texts are gearmand's wherever gearmand has one, since libgearman and PHP
 * compare them; the geartrain codes are those of `@geartrain/core`'s and this package's error
 * classes. Limits an error names (the unique id's length) come from the server's options.
 */
export const WIRE_ERRORS = {
  /** A packet type a client or worker may not send (5, 24, 35 and server-only types). */
  commandNotExpected: {
    errorCode: 'INVALID_COMMAND',
    errorText: 'Command not expected',
    code: 'UNKNOWN_TYPE',
  },
  /** A `\0RES` packet sent to the server. */
  requestMagicExpected: {
    errorCode: 'INVALID_MAGIC',
    errorText: 'Request magic expected',
    code: 'BAD_MAGIC',
  },
  uniqueTooLarge: {
    errorCode: 'ARGUMENT_TOO_LARGE',
    errorText: 'Unique value too large',
    code: 'UNIQUE_TOO_LARGE',
  },
  /** A packet whose size is over the server's maximum. */
  packetTooLarge: { errorCode: 'ARGUMENT_TOO_LARGE', errorText: null, code: 'TOO_LARGE' },
  queueFull: { errorCode: 'QUEUE_ERROR', errorText: 'Job queue is full', code: 'QUEUE_FULL' },
  /** The job store refused the write: gearmand sends the internal error's name. */
  storeFailed: { errorCode: 'QUEUE_ERROR', errorText: 'QUEUE_ERROR', code: 'STORE_FAILED' },
  /**
   * The shared queue's database could not take a submission (unreachable, restarting): the
   * job was not accepted. gearmand's code for a queue that failed, with a text of its own.
   */
  queueUnavailable: {
    errorCode: 'QUEUE_ERROR',
    errorText: 'Shared queue unavailable',
    code: 'QUEUE_UNAVAILABLE',
  },
  /**
   * A foreground job that only another node of a shared queue has workers for (geartrain's
   * own code: gearmand has no shared queue).
   */
  workersElsewhere: {
    errorCode: 'WORKERS_ELSEWHERE',
    errorText: null,
    code: 'WORKERS_ELSEWHERE',
  },
  shutdown: {
    errorCode: 'SHUTDOWN',
    errorText: 'Server is shutting down',
    code: 'SERVER_CLOSED',
  },
  invalidArgument: { errorCode: 'INVALID_ARGUMENT', errorText: null, code: 'INVALID_ARGUMENT' },
  /** A text argument that is not UTF-8 (decision 3). */
  invalidText: { errorCode: 'INVALID_ARGUMENT', errorText: null, code: 'INVALID_TEXT' },
  /** A packet without the NUL separators its type needs (decision 4). */
  malformedPacket: { errorCode: 'INVALID_PACKET', errorText: null, code: 'MALFORMED_PACKET' },
  unknownOption: {
    errorCode: 'UNKNOWN_OPTION',
    errorText: 'Server does not recognize given option',
    code: null,
  },
  /** WORK_STATUS, WORK_COMPLETE or WORK_FAIL for a job the connection does not hold. */
  workResultJobNotFound: {
    errorCode: 'JOB_NOT_FOUND',
    errorText: 'Job given in work result not found',
    code: 'JOB_NOT_FOUND',
  },
  /** WORK_DATA or WORK_WARNING for a job the connection does not hold. */
  workDataJobNotFound: {
    errorCode: 'JOB_NOT_FOUND',
    errorText: 'Job does not exist on server',
    code: 'JOB_NOT_FOUND',
  },
  /** WORK_EXCEPTION for a job the connection does not hold. */
  workExceptionJobNotFound: {
    errorCode: 'JOB_NOT_FOUND',
    errorText: 'An exception was received for a job that does not exist',
    code: 'JOB_NOT_FOUND',
  },
  handleTooLarge: {
    errorCode: 'ARGUMENT_TOO_LARGE',
    errorText: 'Error occurred due to GEARMAND_JOB_HANDLE_SIZE being too small from snprintf',
    code: null,
  },
  /** Anything else that went wrong inside the server. */
  internal: { errorCode: 'UNKNOWN_STATE', errorText: 'Internal server error', code: null },
} as const satisfies Record<string, WireErrorEntry>;

export type WireErrorName = keyof typeof WIRE_ERRORS;

const ENTRIES = Object.entries(WIRE_ERRORS) as [WireErrorName, WireErrorEntry][];

/** The ERROR packet of one entry; `message` fills an entry that carries the error's message. */
export function errorPacket(name: WireErrorName, message = ''): PacketOf<'ERROR'> {
  const entry: WireErrorEntry = WIRE_ERRORS[name];
  return { type: 'ERROR', errorCode: entry.errorCode, errorText: entry.errorText ?? message };
}

/** The entry a geartrain error code is sent as, or undefined when it has none. */
export function wireErrorOf(code: string): WireErrorName | undefined {
  for (const [name, entry] of ENTRIES) if (entry.code === code) return name;
  return undefined;
}

/** The geartrain error code an ERROR packet stands for, or undefined. */
export function errorCodeOf(packet: PacketOf<'ERROR'>): string | undefined {
  for (const [, entry] of ENTRIES) {
    if (entry.code === null || entry.errorCode !== packet.errorCode) continue;
    if (entry.errorText === null || entry.errorText === packet.errorText) return entry.code;
  }
  return undefined;
}

/** The ERROR packet a server sends for `error`: its code's entry, or an internal error. */
export function errorPacketFor(error: unknown): PacketOf<'ERROR'> {
  if (error instanceof GeartrainError) {
    const name = wireErrorOf(error.code);
    if (name !== undefined) return errorPacket(name, error.message);
  }
  return errorPacket('internal');
}
