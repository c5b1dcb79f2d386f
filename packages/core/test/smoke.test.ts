import { describe, expect, it } from 'vitest';
import { createJobServer } from '../src/index.js';

describe('smoke', () => {
  it('runs a foreground job through an in-process worker', async () => {
    const server = createJobServer({ handlePrefix: 'H:test' });
    server.worker().register('reverse', (job) => [...job.text()].reverse().join(''));
    const client = server.client();
    const job = await client.submit('reverse', 'hello');
    expect(job.handle).toBe('H:test:1');
    expect(await job.text()).toBe('olleh');
    await server.close();
  });
});
