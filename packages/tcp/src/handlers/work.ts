import { JobNotFoundError } from '@geartrain/core';
import { owned, type PacketOf, type WireErrorName } from '@geartrain/protocol';
import type { Session } from '../session.js';
import { cInteger } from './c-integer.js';

/** Runs a work report; one the connection may not make is answered with gearmand's ERROR. */
function report(session: Session, notFound: WireErrorName, act: () => void): void {
  try {
    act();
  } catch (error) {
    if (!(error instanceof JobNotFoundError)) throw error;
    session.sendError(notFound);
  }
}

/** A WORK_STATUS number as gearmand stores it: C `atoi` into a uint32 (garbage 0, -5 wraps). */
function uint32(text: string): number {
  return Number(BigInt.asUintN(32, cInteger(text)));
}

// Reference §2 (packets 12, 13, 14, 25, 28, 29) and §3.13: only the connection holding the
// job may report on it; anyone else gets JOB_NOT_FOUND with the text gearmand uses.

export function workStatus(session: Session, packet: PacketOf<'WORK_STATUS'>): void {
  report(session, 'workResultJobNotFound', () =>
    session.connection.workStatus(
      packet.handle,
      uint32(packet.numerator),
      uint32(packet.denominator),
    ),
  );
}

export function workComplete(session: Session, packet: PacketOf<'WORK_COMPLETE'>): void {
  report(session, 'workResultJobNotFound', () =>
    session.connection.workComplete(packet.handle, owned(packet.data)),
  );
}

export function workFail(session: Session, packet: PacketOf<'WORK_FAIL'>): void {
  report(session, 'workResultJobNotFound', () => session.connection.workFail(packet.handle));
}

export function workException(session: Session, packet: PacketOf<'WORK_EXCEPTION'>): void {
  report(session, 'workExceptionJobNotFound', () =>
    session.connection.workException(packet.handle, owned(packet.data)),
  );
}

export function workData(session: Session, packet: PacketOf<'WORK_DATA' | 'WORK_WARNING'>): void {
  report(session, 'workDataJobNotFound', () => {
    const data = owned(packet.data);
    if (packet.type === 'WORK_DATA') session.connection.workData(packet.handle, data);
    else session.connection.workWarning(packet.handle, data);
  });
}
