// An embedded job server in a real Node process, against the built packages: the README's
// first snippet ends on its own and prints what the README says; a process ends or stays
// as the core README says (its timers hold it only while someone waits for them); and the
// README's SIGTERM handler stops gracefully.
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('..', import.meta.url));
// A project of its own that installed @geartrain/core (a link to the built package).
const project = mkdtempSync(join(tmpdir(), 'geartrain-embed-'));
mkdirSync(join(project, 'node_modules/@geartrain'), { recursive: true });
symlinkSync(join(root, 'packages/core'), join(project, 'node_modules/@geartrain/core'), 'dir');
afterAll(() => rmSync(project, { recursive: true, force: true }));

/** The first ```js block after `heading` in a README. */
function snippet(readme: string, heading: string): string {
  const text = readFileSync(join(root, readme), 'utf8');
  const from = text.indexOf(heading);
  expect(from, heading).toBeGreaterThanOrEqual(0);
  const match = /```js\n([\s\S]*?)```/.exec(text.slice(from));
  return match![1]!;
}

interface Run {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  ms: number;
}

/**
 * Runs a program written to a file of the project; it must end by itself within `deadline`
 * ms (else it is killed and the test fails). `onLine` sees each line of its output.
 */
function runFile(
  name: string,
  source: string,
  deadline: number,
  onLine: (line: string, pid: number) => void = () => undefined,
): Promise<Run> {
  const file = join(project, name);
  writeFileSync(file, source);
  const started = performance.now();
  const child = spawn(process.execPath, [file], {
    cwd: project,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  let partial = '';
  child.stdout.on('data', (chunk: Buffer) => {
    stdout += chunk.toString();
    partial += chunk.toString();
    const lines = partial.split('\n');
    partial = lines.pop()!;
    for (const line of lines) onLine(line, child.pid!);
  });
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`${name} still ran after ${deadline} ms; output: ${stdout}${stderr}`));
    }, deadline);
    child.once('exit', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr, ms: performance.now() - started });
    });
  });
}

/** What the snippet's comments say `console.log` prints: `// olleh`, `…` for any text. */
function expectedOutput(source: string): RegExp[] {
  return source
    .split('\n')
    .filter((line) => line.includes('console.log('))
    .map((line) => {
      const comment = /\/\/ (.*)$/.exec(line)![1]!;
      const parts = comment.split('…').map((p) => p.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'));
      return new RegExp(`^${parts.join('.*')}$`);
    });
}

describe('the tour’s first snippet', () => {
  it('ends on its own, with a delayed job 20 minutes out, and prints what the README says', async () => {
    const source = snippet('README.md', '## A five-minute tour');
    expect(source).toContain('{ delay: 20 * 60_000 }');
    const run = await runFile('tour.mjs', source, 15_000);
    expect(run.stderr).toBe('');
    expect([run.code, run.signal]).toEqual([0, null]);
    const lines = run.stdout.trimEnd().split('\n');
    const expected = expectedOutput(source);
    expect(lines).toHaveLength(expected.length);
    lines.forEach((line, i) => expect(line).toMatch(expected[i]!));
  });
});

describe('what keeps an embedding process alive', () => {
  it('holds the process while a foreground job waits out its back-off and a rate limit, not after', async () => {
    const run = await runFile(
      'waits.mjs',
      `import { createJobServer } from '@geartrain/core';
const server = createJobServer();
let calls = 0;
server.worker().register('flaky', () => {
  if (++calls < 3) throw new Error('not yet');
  return 'done after ' + calls;
});
server.setJobPolicy('flaky', { attempts: 3, backoff: 300 });
const client = server.client();
console.log((await client.run('flaky')).toString());
await server.setFunctionLimits('limited', { rate: { max: 1, duration: 400 } });
server.worker().register('limited', (job) => job.text());
const both = [{ functionName: 'limited', payload: 'a' }, { functionName: 'limited', payload: 'b' }];
console.log((await client.runAll(both)).map(String).join(' '));
// Nobody waits for this one: the process does not stay for it.
await client.submit('later', 'x', { delay: 3_600_000 });
console.log('end of script');
`,
      15_000,
    );
    expect(run.stderr).toBe('');
    expect(run.stdout).toBe('done after 3\na b\nend of script\n');
    expect(run.code).toBe(0);
    // Two back-offs of 300 ms and a rate window of 400 ms were waited out, the hour was not.
    expect(run.ms).toBeGreaterThanOrEqual(1000);
    expect(run.ms).toBeLessThan(10_000);
  });

  it('stays for a handler that hangs until its timeout, and for close() to abort one', async () => {
    const run = await runFile(
      'hangs.mjs',
      `import { createJobServer } from '@geartrain/core';
const server = createJobServer();
const client = server.client();
server.worker().register('hang', () => new Promise(() => {}), { timeout: 300 });
await client.run('hang').catch((error) => console.log('first:', error.reason));
server.worker().register('stuck', () => new Promise(() => {}));
const stuck = client.run('stuck').catch((error) => console.log('second:', error.reason));
await new Promise((resolve) => setImmediate(resolve));
await server.close({ timeout: 300 });
await stuck;
console.log('closed');
`,
      15_000,
    );
    expect(run.stderr).toBe('');
    expect(run.stdout).toBe('first: TIMEOUT\nsecond: SHUTDOWN\nclosed\n');
    expect(run.code).toBe(0);
  });

  it('runs a schedule until it is removed, and waits out a back-off an events$ subscriber watches', async () => {
    const run = await runFile(
      'listens.mjs',
      `import { createJobServer } from '@geartrain/core';
const server = createJobServer();
let beats = 0;
server.worker().register('beat', () => {
  if (++beats === 3) void server.unschedule('beat').then(() => console.log('unscheduled after', beats));
});
await server.schedule('beat', { every: 100, functionName: 'beat' });
let calls = 0;
server.worker().register('flaky', () => {
  if (++calls === 1) throw new Error('not yet');
});
const job = await server.client().submit('flaky', '', { background: true, attempts: 2, backoff: 800 });
const watching = server.events$.subscribe((event) => {
  if (event.type === 'completed' && event.handle === job.handle) {
    console.log('background job completed on attempt', calls);
    watching.unsubscribe();
  }
});
console.log('end of script');
`,
      15_000,
    );
    expect(run.stderr).toBe('');
    expect(run.stdout).toBe(
      'end of script\nunscheduled after 3\nbackground job completed on attempt 2\n',
    );
    expect(run.code).toBe(0);
  });
});

describe('the core README’s SIGTERM handler', () => {
  it('lets the running job finish, closes, and exits 0', async () => {
    const handler = snippet('packages/core/README.md', '## The process: what keeps it alive');
    expect(handler).toContain("process.once('SIGTERM', shutdown)");
    const source = `import { createJobServer } from '@geartrain/core';
const server = createJobServer();
server.worker().register('report', async () => {
  console.log('report started');
  await new Promise((resolve) => setTimeout(resolve, 500));
  console.log('report finished');
  return 'the report';
});
// The application's own work (an HTTP server, say) keeps the process alive.
setInterval(() => undefined, 60_000);
void server
  .client()
  .run('report')
  .then((result) => console.log('client got', result.toString()));
${handler}`;
    let signalled = false;
    const run = await runFile('sigterm.mjs', source, 15_000, (line, pid) => {
      if (line === 'report started' && !signalled) {
        signalled = true;
        process.kill(pid, 'SIGTERM');
      }
    });
    expect(run.stderr).toBe('');
    expect(run.stdout).toBe(
      'report started\nSIGTERM: closing\nreport finished\nclient got the report\n',
    );
    expect([run.code, run.signal]).toEqual([0, null]);
  });
});
