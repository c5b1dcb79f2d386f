import type { PacketContext } from '../context.js';

/**
 * GRAB_JOB, GRAB_JOB_UNIQ, GRAB_JOB_ALL (reference §2, §3.3): the next job for this
 * connection, or NO_JOB. GRAB_JOB_ALL is answered with JOB_ASSIGN_ALL only when the job has a
 * reducer, JOB_ASSIGN_UNIQ otherwise, as gearmand does.
 */
export function grab(kind: 'plain' | 'uniq' | 'all') {
  return (context: PacketContext): void => {
    // A server closing gracefully lets held jobs finish but hands out no more.
    const job = context.draining ? undefined : context.connection.grab();
    if (job === undefined) {
      context.output.send({ type: 'NO_JOB' });
      return;
    }
    const { handle, functionName, unique, payload: data } = job;
    if (kind === 'plain') {
      context.output.send({ type: 'JOB_ASSIGN', handle, functionName, data });
    } else if (kind === 'all' && job.reducer !== '') {
      context.output.send({
        type: 'JOB_ASSIGN_ALL',
        handle,
        functionName,
        unique,
        reducer: job.reducer,
        data,
      });
    } else {
      context.output.send({ type: 'JOB_ASSIGN_UNIQ', handle, functionName, unique, data });
    }
  };
}

/** PRE_SLEEP (reference §3.4): NOOP at once if work waits, else when it arrives. */
export function preSleep(context: PacketContext): void {
  context.connection.preSleep();
}
