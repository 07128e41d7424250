import { homedir } from 'node:os';
import { resolve } from 'node:path';

/** Expands `~` and makes the path absolute. */
export function resolveStorePath(path: string): string {
  if (path === '~' || path.startsWith('~/')) return resolve(homedir(), path.slice(2));
  return resolve(path);
}
