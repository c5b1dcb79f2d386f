import { describe, expect, it } from 'vitest';
import {
  GeartrainError,
  ProtocolError,
  WIRE_ERRORS,
  errorCodeOf,
  errorPacket,
  errorPacketFor,
  wireErrorOf,
} from '../src/index.js';

describe('the wire-error table', () => {
  it('sends each error code as gearmand does, and reads it back to the same code', () => {
    const cases: [string, string, string][] = [
      ['UNIQUE_TOO_LARGE', 'ARGUMENT_TOO_LARGE', 'Unique value too large'],
      ['QUEUE_FULL', 'QUEUE_ERROR', 'Job queue is full'],
      ['STORE_FAILED', 'QUEUE_ERROR', 'QUEUE_ERROR'],
      ['QUEUE_UNAVAILABLE', 'QUEUE_ERROR', 'Shared queue unavailable'],
      ['SERVER_CLOSED', 'SHUTDOWN', 'Server is shutting down'],
      ['UNKNOWN_TYPE', 'INVALID_COMMAND', 'Command not expected'],
      ['BAD_MAGIC', 'INVALID_MAGIC', 'Request magic expected'],
      ['INVALID_ARGUMENT', 'INVALID_ARGUMENT', 'the message'],
      ['MALFORMED_PACKET', 'INVALID_PACKET', 'the message'],
    ];
    for (const [code, errorCode, errorText] of cases) {
      const packet = errorPacket(wireErrorOf(code)!, 'the message');
      expect(packet).toEqual({ type: 'ERROR', errorCode, errorText });
      expect(errorCodeOf(packet)).toBe(code);
    }
  });

  it('tells apart the errors that share a Gearman code by their text', () => {
    expect(errorCodeOf({ type: 'ERROR', errorCode: 'QUEUE_ERROR', errorText: 'QUEUE_ERROR' })).toBe(
      'STORE_FAILED',
    );
    expect(
      errorCodeOf({ type: 'ERROR', errorCode: 'QUEUE_ERROR', errorText: 'Job queue is full' }),
    ).toBe('QUEUE_FULL');
    expect(errorCodeOf({ type: 'ERROR', errorCode: 'QUEUE_ERROR', errorText: 'other' })).toBe(
      undefined,
    );
    expect(errorCodeOf({ type: 'ERROR', errorCode: 'SOMETHING', errorText: 'x' })).toBe(undefined);
  });

  it('makes the packet for a thrown error: its entry, or an internal error', () => {
    expect(errorPacketFor(new GeartrainError('QUEUE_FULL', 'queue of f is full'))).toEqual(
      errorPacket('queueFull'),
    );
    expect(
      errorPacketFor(new ProtocolError('INVALID_TEXT', 'not UTF-8', { resyncable: true })),
    ).toEqual({ type: 'ERROR', errorCode: 'INVALID_ARGUMENT', errorText: 'not UTF-8' });
    expect(errorPacketFor(new Error('boom'))).toEqual(errorPacket('internal'));
    expect(errorPacketFor(new GeartrainError('NO_SUCH_CODE', 'x'))).toEqual({
      type: 'ERROR',
      errorCode: 'UNKNOWN_STATE',
      errorText: 'Internal server error',
    });
    // Every fixed text is gearmand's (Shared queue unavailable is geartrain's own); none is empty.
    for (const entry of Object.values(WIRE_ERRORS)) expect(entry.errorText).not.toBe('');
  });
});
