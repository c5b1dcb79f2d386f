// What every package under packages/ carries for the people who install it: a LICENSE, a
// CHANGELOG, the registry's metadata fields, built files named by what they are (not by a
// hash), and dependencies for every module its built code and types import. It covers the
// packages found at test time, not a fixed list.
import { builtinModules } from 'node:module';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

const root = join(import.meta.dirname, '..');
const packagesDir = join(root, 'packages');

interface Manifest {
  name: string;
  license?: string;
  keywords?: string[];
  homepage?: string;
  repository?: { type?: string; url?: string; directory?: string };
  files?: string[];
  dependencies?: Record<string, string>;
  peerDependencies?: Record<string, string>;
}

const packages = readdirSync(packagesDir)
  .filter((entry) => existsSync(join(packagesDir, entry, 'package.json')))
  .map((entry) => ({
    entry,
    dir: join(packagesDir, entry),
    manifest: JSON.parse(
      readFileSync(join(packagesDir, entry, 'package.json'), 'utf8'),
    ) as Manifest,
  }));

/** The files of `dir`, recursively, relative to it. */
function filesUnder(dir: string, prefix = ''): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) =>
    entry.isDirectory()
      ? filesUnder(join(dir, entry.name), `${prefix}${entry.name}/`)
      : [`${prefix}${entry.name}`],
  );
}

/** The package names a built file imports (bare specifiers; comments left out). */
function importedPackages(text: string): string[] {
  const code = text
    .split('\n')
    .filter((line) => !/^\s*(\*|\/\/|\/\*)/.test(line))
    .join('\n');
  const names = new Set<string>();
  const pattern =
    /(?:\bfrom\s*|\bimport\s*\(\s*|\brequire\s*\(\s*|^import\s+)['"]([^'"./][^'"]*)['"]/gm;
  for (const [, specifier] of code.matchAll(pattern)) {
    if (specifier!.startsWith('node:') || builtinModules.includes(specifier!)) continue;
    const parts = specifier!.split('/');
    names.add(specifier!.startsWith('@') ? parts.slice(0, 2).join('/') : parts[0]!);
  }
  return [...names];
}

describe.each(packages)('$manifest.name', ({ entry, dir, manifest }) => {
  it('has an MIT LICENSE of the geartrain authors, as its package.json says', () => {
    expect(manifest.license).toBe('MIT');
    const license = readFileSync(join(dir, 'LICENSE'), 'utf8');
    expect(license).toMatch(/^MIT License\n/);
    expect(license).toMatch(/^Copyright \(c\) \d{4} the geartrain authors$/m);
  });

  it('has a CHANGELOG with an Unreleased section that says what it does', () => {
    const changelog = readFileSync(join(dir, 'CHANGELOG.md'), 'utf8');
    expect(changelog).toContain('[Keep a Changelog](https://keepachangelog.com/');
    const unreleased = /^## \[Unreleased\]\n([\s\S]*?)(?=^## |$(?![\s\S]))/m.exec(changelog);
    expect(unreleased?.[1]).toMatch(/^- \S/m);
  });

  it('has keywords, a homepage and the repository with its folder, and ships LICENSE and CHANGELOG', () => {
    expect(manifest.keywords?.length).toBeGreaterThan(0);
    expect(manifest.homepage).toBe(
      `https://github.com/geartrain/geartrain/tree/main/packages/${entry}#readme`,
    );
    expect(manifest.repository).toEqual({
      type: 'git',
      url: 'git+https://github.com/geartrain/geartrain.git',
      directory: `packages/${entry}`,
    });
    expect(manifest.files).toEqual(expect.arrayContaining(['LICENSE', 'CHANGELOG.md']));
  });

  it('names its built files, declaration chunks included, without hashes', () => {
    const built = filesUnder(join(dir, 'dist'));
    expect(built.length).toBeGreaterThan(0);
    const hashed = built.filter(
      (file) =>
        /(^|\/)chunk-[A-Z0-9]{8}\./.test(file) ||
        /-[A-Za-z0-9_-]{8}\.(d\.)?[cm]?[jt]s(\.map)?$/.test(file),
    );
    expect(hashed).toEqual([]);
  });

  it('depends on every package its built code and types import', () => {
    const declared = new Set([
      ...Object.keys(manifest.dependencies ?? {}),
      ...Object.keys(manifest.peerDependencies ?? {}),
      manifest.name,
    ]);
    const undeclared = new Map<string, string[]>();
    for (const file of filesUnder(join(dir, 'dist'))) {
      if (!/\.(c|m)?js$|\.d\.(c|m)?ts$/.test(file) || file.startsWith('page/')) continue;
      const text = readFileSync(join(dir, 'dist', file), 'utf8');
      for (const name of importedPackages(text)) {
        if (!declared.has(name)) undeclared.set(name, [...(undeclared.get(name) ?? []), file]);
      }
    }
    expect(Object.fromEntries(undeclared)).toEqual({});
  });
});
