import { describe, expect, it } from 'vitest';
import { defaultStoreDir, resolveStore, shownStoreDir } from '../src/store.js';

const DIR = '/state/geartrain';

function defaultOn(port: number, files: string[]) {
  const existing = new Set(files.map((name) => `${DIR}/${name}`));
  return resolveStore(
    { kind: 'default', dir: DIR, port, table: undefined, durability: 'process-crash' },
    (path) => existing.has(path),
  );
}

describe('the default store', () => {
  it('is in $XDG_STATE_HOME/geartrain, or ~/.local/state/geartrain', () => {
    expect(defaultStoreDir({ XDG_STATE_HOME: '/xdg', HOME: '/home/me' })).toBe('/xdg/geartrain');
    expect(defaultStoreDir({ HOME: '/home/me' })).toBe('/home/me/.local/state/geartrain');
    expect(shownStoreDir({ HOME: '/home/me' })).toBe('~/.local/state/geartrain');
  });

  it('is one file per port', () => {
    expect(defaultOn(4730, [])).toEqual({
      path: `${DIR}/jobs-4730.sqlite`,
      table: undefined,
      durability: 'process-crash',
      inDefaultDir: true,
    });
    expect(defaultOn(4731, ['jobs-4730.sqlite']).path).toBe(`${DIR}/jobs-4731.sqlite`);
  });

  it("keeps the earlier releases' jobs.sqlite for port 4730 while it has no file of its own", () => {
    expect(defaultOn(4730, ['jobs.sqlite'])).toMatchObject({
      path: `${DIR}/jobs.sqlite`,
      legacy: { state: 'kept', path: `${DIR}/jobs.sqlite` },
    });
    // Another port starts its own file, and is told where the earlier jobs are.
    expect(defaultOn(4731, ['jobs.sqlite'])).toMatchObject({
      path: `${DIR}/jobs-4731.sqlite`,
      legacy: { state: 'elsewhere', path: `${DIR}/jobs.sqlite` },
    });
    // Once a port has its own file, the earlier one is no concern of its.
    expect(defaultOn(4731, ['jobs.sqlite', 'jobs-4731.sqlite'])).toEqual({
      path: `${DIR}/jobs-4731.sqlite`,
      table: undefined,
      durability: 'process-crash',
      inDefaultDir: true,
    });
    expect(defaultOn(4730, ['jobs.sqlite', 'jobs-4730.sqlite']).path).toBe(
      `${DIR}/jobs-4730.sqlite`,
    );
  });

  it('leaves a file named by --store as it is', () => {
    expect(
      resolveStore(
        { kind: 'file', path: 'jobs.sqlite', table: 't', durability: 'power-loss' },
        () => true,
      ),
    ).toEqual({ path: 'jobs.sqlite', table: 't', durability: 'power-loss', inDefaultDir: false });
  });
});
