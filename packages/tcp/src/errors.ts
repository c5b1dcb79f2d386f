import { GeartrainError } from '@geartrain/core';
import { errorPacket, type PacketOf } from '@geartrain/protocol';

/**
 * The ERROR packet for a refused submission (reference §3.13): gearmand's code and text where
 * gearmand has one, a code libgearman knows otherwise.
 */
export function wireError(error: unknown): PacketOf<'ERROR'> {
  const code = error instanceof GeartrainError ? (error as GeartrainError<string>).code : undefined;
  switch (code) {
    case 'UNIQUE_TOO_LARGE':
      return errorPacket('uniqueTooLarge');
    case 'QUEUE_FULL':
      return errorPacket('queueFull');
    case 'STORE_FAILED':
      // gearmand sends the internal error name; the store's message goes to the log.
      return { type: 'ERROR', errorCode: 'QUEUE_ERROR', errorText: 'QUEUE_ERROR' };
    case 'SERVER_CLOSED':
      return { type: 'ERROR', errorCode: 'SHUTDOWN', errorText: 'Server is shutting down' };
    case 'INVALID_ARGUMENT':
      return {
        type: 'ERROR',
        errorCode: 'INVALID_ARGUMENT',
        errorText: (error as Error).message,
      };
    default:
      return { type: 'ERROR', errorCode: 'UNKNOWN_STATE', errorText: 'Internal server error' };
  }
}
