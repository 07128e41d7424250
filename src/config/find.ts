import { existsSync } from 'node:fs';
import { homedir } from 'node:os';
import { resolve } from 'node:path';

export interface LoadOptions {
  /** Explicit file (`--config`); must exist. */
  readonly path?: string;
  readonly cwd?: string;
  readonly home?: string;
  readonly env?: Readonly<Record<string, string | undefined>>;
}

/** Where Vigil looks for its config: `--config`, else ./vigil.yaml (or .yml/.json), else ~/.vigil/config.yaml. */
export function findConfigPath(opts: LoadOptions = {}): string | null {
  const cwd = opts.cwd ?? process.cwd();
  const home = opts.home ?? homedir();
  if (opts.path) return resolve(cwd, opts.path);
  for (const name of ['vigil.yaml', 'vigil.yml', 'vigil.json']) {
    const p = resolve(cwd, name);
    if (existsSync(p)) return p;
  }
  for (const name of ['config.yaml', 'config.yml', 'config.json']) {
    const p = resolve(home, '.vigil', name);
    if (existsSync(p)) return p;
  }
  return null;
}
