import type { Priority } from '@geartrain/core';
import type { PacketOf } from '@geartrain/protocol';
import type { PacketContext } from '../context.js';
import { cInteger } from './c-integer.js';

type SubmitPacket = PacketOf<
  | 'SUBMIT_JOB'
  | 'SUBMIT_JOB_BG'
  | 'SUBMIT_JOB_HIGH'
  | 'SUBMIT_JOB_HIGH_BG'
  | 'SUBMIT_JOB_LOW'
  | 'SUBMIT_JOB_LOW_BG'
>;

/**
 * SUBMIT_JOB, _BG, _HIGH, _HIGH_BG, _LOW, _LOW_BG (reference §3.2): a job of the given
 * priority, foreground (the connection receives its updates) or background.
 */
export function submit(priority: Priority, background: boolean) {
  return (context: PacketContext, packet: SubmitPacket): void => {
    context.submit({
      functionName: packet.functionName,
      unique: packet.unique,
      payload: packet.data,
      priority,
      background,
    });
  };
}

/**
 * SUBMIT_JOB_EPOCH (reference §3.10): a background NORMAL job not runnable before EPOCH
 * (seconds since 1970). 0, negative, past or garbage times run at once. Unlike gearmand
 * 1.1.20, a timer wakes sleeping workers when the time comes.
 */
export function submitEpoch(context: PacketContext, packet: PacketOf<'SUBMIT_JOB_EPOCH'>): void {
  const seconds = Number(cInteger(packet.epoch));
  const runAt = Number.isSafeInteger(seconds * 1000) && seconds > 0 ? seconds * 1000 : 0;
  context.submit({
    functionName: packet.functionName,
    unique: packet.unique,
    payload: packet.data,
    background: true,
    runAt,
  });
}

/**
 * SUBMIT_REDUCE_JOB and _BACKGROUND (reference §3.11): an ordinary NORMAL job carrying its
 * reducer, which workers grabbing with GRAB_JOB_ALL receive; the aggregator is discarded.
 */
export function submitReduce(background: boolean) {
  return (
    context: PacketContext,
    packet: PacketOf<'SUBMIT_REDUCE_JOB' | 'SUBMIT_REDUCE_JOB_BACKGROUND'>,
  ): void => {
    context.submit({
      functionName: packet.functionName,
      unique: packet.unique,
      payload: packet.data,
      background,
      reducer: packet.reducer,
    });
  };
}
