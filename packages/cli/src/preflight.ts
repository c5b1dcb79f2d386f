import { accessSync, constants, statSync } from 'node:fs';
import { once } from 'node:events';
import { createServer } from 'node:net';
import { dirname } from 'node:path';
import { StartFailure } from './failures.js';

/** `host:port`, with an IPv6 address in brackets. */
export function hostPort(host: string, port: number): string {
  return `${host.includes(':') ? `[${host}]` : host}:${port}`;
}

/**
 * Binds an address and lets it go again, so that a port in use, a name that does not
 * resolve or an address this host does not have stops the start before the store is
 * opened or created. The server binds it again moments later; were the port taken in
 * between, that bind fails as it would have.
 * @throws StartFailure saying what of the address is wrong
 */
export async function checkBindable(what: string, host: string, port: number): Promise<void> {
  if (port === 0) return;
  const probe = createServer();
  probe.listen({ host: host.replace(/^\[(.*)\]$/, '$1'), port });
  try {
    await Promise.race([
      once(probe, 'listening'),
      once(probe, 'error').then(([error]) => {
        throw error as Error;
      }),
    ]);
  } catch (error) {
    throw new StartFailure(`cannot ${what} on ${hostPort(host, port)}: ${reason(error)}`, {
      cause: error,
    });
  }
  await new Promise((resolve) => probe.close(resolve));
}

/** Node's socket errors, as a person reads them. */
function reason(error: unknown): string {
  const { code, message } = error as NodeJS.ErrnoException;
  switch (code) {
    case 'EADDRINUSE':
      return 'the port is in use (another server listens there)';
    case 'EACCES':
      return 'permission denied (ports below 1024 need privileges)';
    case 'EADDRNOTAVAIL':
      return 'this host has no such address';
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
      return 'the name does not resolve to an address';
    default:
      return message;
  }
}

/** Why a file or folder cannot be written, from the error code of `access(W_OK)`. */
export function unwritable(code: string | undefined): string {
  return code === 'EROFS'
    ? 'is on a read-only file system (EROFS)'
    : `cannot be written (${code ?? 'unknown error'})`;
}

/**
 * Checks that the pid file can be written, without writing it yet: a server that fails to
 * start must not replace the pid file of one that runs.
 * @throws StartFailure saying why not
 */
export function checkPidFile(path: string): void {
  const fail = (why: string) => {
    throw new StartFailure(`cannot write the pid file ${path}: ${why}`);
  };
  try {
    const stat = statSync(path);
    if (stat.isDirectory()) fail('it is a folder');
    accessSync(path, constants.W_OK);
    return;
  } catch (error) {
    if (error instanceof StartFailure) throw error;
    const code = (error as NodeJS.ErrnoException).code;
    if (code !== 'ENOENT') fail(`it ${unwritable(code)}`);
  }
  const folder = dirname(path);
  try {
    if (!statSync(folder).isDirectory()) fail(`${folder} is not a folder`);
    accessSync(folder, constants.W_OK);
  } catch (error) {
    if (error instanceof StartFailure) throw error;
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') fail(`the folder ${folder} does not exist`);
    fail(`the folder ${folder} ${unwritable(code)}`);
  }
}
