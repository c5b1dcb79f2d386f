import { JobNotFoundError } from '@geartrain/core';
import { owned, type PacketOf, type WireErrorName } from '@geartrain/protocol';
import type { PacketContext } from '../context.js';
import { cInteger } from './c-integer.js';

/** Runs a work report; one the connection may not make is answered with gearmand's ERROR. */
function report(context: PacketContext, notFound: WireErrorName, act: () => void): void {
  try {
    act();
  } catch (error) {
    if (!(error instanceof JobNotFoundError)) throw error;
    context.sendError(notFound);
  }
}

/** A WORK_STATUS number as gearmand stores it: C `atoi` into a uint32 (garbage 0, -5 wraps). */
function uint32(text: string): number {
  return Number(BigInt.asUintN(32, cInteger(text)));
}

// Reference §2 (packets 12, 13, 14, 25, 28, 29) and §3.13: only the connection holding the
// job may report on it; anyone else gets JOB_NOT_FOUND with the text gearmand uses.

export function workStatus(context: PacketContext, packet: PacketOf<'WORK_STATUS'>): void {
  report(context, 'workResultJobNotFound', () =>
    context.connection.workStatus(
      packet.handle,
      uint32(packet.numerator),
      uint32(packet.denominator),
    ),
  );
}

export function workComplete(context: PacketContext, packet: PacketOf<'WORK_COMPLETE'>): void {
  report(context, 'workResultJobNotFound', () =>
    context.connection.workComplete(packet.handle, owned(packet.data)),
  );
}

export function workFail(context: PacketContext, packet: PacketOf<'WORK_FAIL'>): void {
  report(context, 'workResultJobNotFound', () => context.connection.workFail(packet.handle));
}

export function workException(context: PacketContext, packet: PacketOf<'WORK_EXCEPTION'>): void {
  report(context, 'workExceptionJobNotFound', () =>
    context.connection.workException(packet.handle, owned(packet.data)),
  );
}

export function workData(
  context: PacketContext,
  packet: PacketOf<'WORK_DATA' | 'WORK_WARNING'>,
): void {
  report(context, 'workDataJobNotFound', () => {
    const data = owned(packet.data);
    if (packet.type === 'WORK_DATA') context.connection.workData(packet.handle, data);
    else context.connection.workWarning(packet.handle, data);
  });
}
