import { GeartrainError, JobFailedError, WorkFail } from '@geartrain/core';
import type * as CoreModule from '@geartrain/core';
import {
  cpSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';

/**
 * `instanceof` holds for an error made by another copy of the package, as when a handler
 * module in a worker thread or a second install has its own: here a second install of the
 * built @geartrain/core and @geartrain/protocol in a temporary node_modules, loaded by Node.
 */
const root = fileURLToPath(new URL('..', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'geartrain-copy-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function install(name: string): void {
  const target = join(dir, 'node_modules/@geartrain', name);
  mkdirSync(target, { recursive: true });
  cpSync(join(root, 'packages', name, 'dist'), join(target, 'dist'), { recursive: true });
  // As published: without the workspace's condition that points at the TypeScript sources.
  const manifest = readFileSync(join(root, 'packages', name, 'package.json'), 'utf8');
  writeFileSync(
    join(target, 'package.json'),
    manifest.replace(/"@geartrain\/source": "[^"]*",/g, ''),
  );
}

type Core = typeof CoreModule;

async function secondInstall(): Promise<Core> {
  install('core');
  install('protocol');
  // Core's other dependencies (rxjs, croner) are the workspace's own.
  const manifest = JSON.parse(readFileSync(join(root, 'packages/core/package.json'), 'utf8')) as {
    dependencies: Record<string, string>;
  };
  for (const name of Object.keys(manifest.dependencies)) {
    if (!name.startsWith('@geartrain/')) {
      symlinkSync(join(root, 'node_modules', name), join(dir, 'node_modules', name));
    }
  }
  const entry = join(dir, 'node_modules/@geartrain/core/dist/index.js');
  return (await import(pathToFileURL(entry).href)) as Core;
}

describe('errors across copies of the package', () => {
  it('instanceof recognises a WorkFail made by another copy, and only for its own class', async () => {
    const other = await secondInstall();
    expect(dirname(fileURLToPath(import.meta.url))).not.toBe(dir);
    expect(other.WorkFail).not.toBe(WorkFail); // truly another class
    const foreign = new other.WorkFail('no stock');
    expect(foreign instanceof WorkFail).toBe(true);
    expect(foreign instanceof GeartrainError).toBe(true);
    expect(foreign instanceof Error).toBe(true);
    expect(foreign instanceof JobFailedError).toBe(false);
    expect(new other.JobFailedError('H:x:1', 'TIMEOUT') instanceof WorkFail).toBe(false);
    expect(new other.JobFailedError('H:x:1', 'TIMEOUT') instanceof JobFailedError).toBe(true);
    expect(new WorkFail() instanceof other.WorkFail).toBe(true);
  });

  it('is not fooled by look-alikes, and the brand does not show in keys or JSON', () => {
    expect({ code: 'WORK_FAIL', name: 'WorkFail' } instanceof WorkFail).toBe(false);
    expect(new Error('x') instanceof GeartrainError).toBe(false);
    const nothing: unknown = null;
    expect(nothing instanceof GeartrainError).toBe(false);
    const error = new WorkFail('x');
    expect(Object.keys(error)).toEqual(['code', 'name']);
    expect(JSON.stringify(error)).toBe('{"code":"WORK_FAIL","name":"WorkFail"}');
  });
});
