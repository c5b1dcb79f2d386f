import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import { run, type RunResult } from './interop.js';

/** The `geartrain` command as npm links it (packages/cli/bin), running this checkout's build. */
export const geartrain = fileURLToPath(
  new URL('../../packages/cli/bin/geartrain.js', import.meta.url),
);

/** Runs `geartrain ARGS` to completion. */
export function runGeartrain(args: string[], env?: NodeJS.ProcessEnv): Promise<RunResult> {
  return run(process.execPath, [geartrain, ...args], { env });
}

export interface ServedCommand {
  readonly child: ChildProcess;
  /** The first line it printed (`geartrain … listening on HOST:PORT; jobs stored in …`). */
  readonly line: string;
  /** HOST:PORT it listens on. */
  readonly address: string;
  readonly port: number;
  /** Everything printed on stdout and stderr so far. */
  stdout(): string;
  stderr(): string;
  /** Resolves with the first stdout line that matches, within `timeout` ms. */
  waitForLine(pattern: RegExp, timeout?: number): Promise<string>;
  /** Resolves with the exit code (or the signal) once it has exited. */
  readonly exited: Promise<number | NodeJS.Signals>;
  /** Sends `signal` (default SIGTERM) unless it has exited, and waits for the exit. */
  stop(signal?: NodeJS.Signals): Promise<number | NodeJS.Signals>;
}

/**
 * Starts `geartrain serve ARGS` and resolves once it prints the line that says where it
 * listens (within 15 s); rejects with its stderr if it exits first. The caller stops it.
 */
export async function serveCommand(
  args: string[],
  options: { env?: NodeJS.ProcessEnv; nodeFlags?: string[] } = {},
): Promise<ServedCommand> {
  const child = spawn(
    process.execPath,
    [...(options.nodeFlags ?? []), geartrain, 'serve', ...args],
    {
      env: options.env,
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  let out = '';
  let err = '';
  const waiters = new Set<() => void>();
  child.stdout.on('data', (chunk: Buffer) => {
    out += chunk.toString();
    for (const check of waiters) check();
  });
  child.stderr.on('data', (chunk: Buffer) => (err += chunk.toString()));
  const exited = once(child, 'close').then(
    ([code, signal]) => (code ?? signal) as number | NodeJS.Signals,
  );
  const waitForLine = (pattern: RegExp, timeout = 15_000) =>
    new Promise<string>((resolve, reject) => {
      const check = () => {
        const line = out.split('\n').find((l, i, all) => i < all.length - 1 && pattern.test(l));
        if (line === undefined) return;
        done();
        resolve(line);
      };
      const timer = setTimeout(() => {
        done();
        reject(new Error(`no line matching ${pattern} in ${timeout} ms: ${out}${err}`));
      }, timeout);
      const done = () => {
        clearTimeout(timer);
        waiters.delete(check);
      };
      waiters.add(check);
      void exited.then(() => {
        // Output still in the pipe is read before 'exit' resolves here, or never.
        setImmediate(() => {
          if (!waiters.has(check)) return;
          done();
          reject(new Error(`exited before a line matching ${pattern}: ${out}${err}`));
        });
      });
      check();
    });
  let line: string;
  try {
    line = await waitForLine(/listening on /);
  } catch (error) {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    throw error;
  }
  const address = /listening on (\S+);/.exec(line)![1]!;
  return {
    child,
    line,
    address,
    port: Number(address.slice(address.lastIndexOf(':') + 1)),
    stdout: () => out,
    stderr: () => err,
    waitForLine,
    exited,
    async stop(signal: NodeJS.Signals = 'SIGTERM') {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      return exited;
    },
  };
}
