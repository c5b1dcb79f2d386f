import { describe, expect, it } from 'vitest';
import { FunctionEntry, Job, JobState } from '../src/internal/job.js';

describe('a job’s packed fields', () => {
  it('keep state, stored and retries apart, with a retry count past 32 bits exact', () => {
    const fn = new FunctionEntry('f', 'H:t');
    const job = new Job({ seq: 7, fn, unique: '', body: 'x', priority: 2, background: true });
    expect([job.state, job.stored, job.retries]).toEqual([JobState.Pending, false, 0]);
    expect([job.priorityIndex, job.background, job.madeHandle]).toEqual([2, true, true]);

    job.stored = true;
    job.state = JobState.Running;
    job.retries = 2 ** 40 + 3;
    expect([job.state, job.stored, job.retries]).toEqual([JobState.Running, true, 2 ** 40 + 3]);
    job.state = JobState.Delayed;
    job.stored = false;
    expect([job.state, job.stored, job.retries]).toEqual([JobState.Delayed, false, 2 ** 40 + 3]);
    job.retries++;
    job.stored = true;
    job.stored = true;
    expect([job.state, job.stored, job.retries]).toEqual([JobState.Delayed, true, 2 ** 40 + 4]);
    expect([job.priorityIndex, job.background, job.handle]).toEqual([2, true, 'H:t:7']);

    const replayed = new Job({
      seq: 8,
      fn,
      unique: 'u',
      body: 'x',
      priority: 0,
      background: false,
      handle: 'H:old:8',
    });
    expect([replayed.handle, replayed.madeHandle, replayed.background]).toEqual([
      'H:old:8',
      false,
      false,
    ]);
  });
});
