import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';

const run = promisify(execFile);
const examples = fileURLToPath(new URL('../examples/', import.meta.url));

/** Runs an example the way its README says (`npm start` = `node index.mjs`), bounded in time. */
async function start(name: string): Promise<string> {
  const { stdout } = await run(process.execPath, ['index.mjs'], {
    cwd: `${examples}${name}`,
    timeout: 15_000,
  });
  return stdout;
}

describe('examples', () => {
  it('protocol-tour decodes the whole conversation fed byte by byte', async () => {
    const out = await start('protocol-tour');
    expect(out).toContain('REQ SUBMIT_JOB functionName=cli_rev');
    expect(out).toContain('REQ WORK_COMPLETE handle=H:vm:55 data="olleh\\n"');
    expect(out).toContain('admin "show jobs" -> show jobs');
    expect(out).toContain('cli_rev\t0\t0\t1\n.\n');
    expect(out).toContain('0 left over');
  });
});

describe('embedded example', () => {
  it('runs foreground, background with progress, unique ids and a delayed job', async () => {
    const out = await start('embedded');
    expect(out).toContain('reverse: namraeg olleh');
    // Progress polled while the job runs: numerators never go back, then the job is gone.
    const progress = [...out.matchAll(/running: true, (\d)\/\d/g)].map((m) => Number(m[1]));
    expect(progress.length).toBeGreaterThan(0);
    expect(progress).toEqual([...progress].sort((x, y) => x - y));
    expect(out).toMatch(/background job H:\S+:2\n( {2}running: true, \d\/\d\n)+ {2}done\n/);
    expect(out).toContain('same handle for the same unique id: true');
    expect(out).toMatch(/event delayed (\S+)\ndelayed job \1 queued until its time/);
    expect(out).toContain('closed unpaid order 7');
    expect(out.trim().endsWith('server closed')).toBe(true);
  });
});
