import { isAbsolute, resolve } from 'node:path';

/**
 * A path written in a config file means relative to that file, so `vigil up --config /etc/vigil/vigil.yaml` finds
 * the same database and keys from any working directory; absolute and `~` paths stay as written.
 */
export function relativeToConfig(path: string, baseDir: string): string {
  return path.startsWith('~') || isAbsolute(path) ? path : resolve(baseDir, path);
}

/** `~/…` under `home`; any other path as it is. */
export function expandHome(path: string, home: string): string {
  return path.startsWith('~/') ? resolve(home, path.slice(2)) : path;
}
