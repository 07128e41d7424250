/** Runs the CLI in-process for tests, with captured output and an isolated HOME. */
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { main } from '../main.ts';

export interface CliRun {
  readonly code: number;
  readonly out: string;
  readonly err: string;
}

/** `main(argv)` with `cwd` as the working directory and HOME, and `env` on top; stdout and stderr captured. */
export async function runCli(
  argv: readonly string[],
  opts: { cwd: string; env?: Readonly<Record<string, string>> },
): Promise<CliRun> {
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  let out = '';
  let err = '';
  stdout.on('data', (d) => {
    out += d;
  });
  stderr.on('data', (d) => {
    err += d;
  });
  const code = await main([...argv], {
    stdout,
    stderr,
    env: { HOME: opts.cwd, USER: 'tester', ...opts.env },
    cwd: opts.cwd,
  });
  // Commands report failure through process.exitCode; in-process it must not become the test file's exit code.
  process.exitCode = undefined;
  return { code, out, err };
}

/** `vigil --config DIR/vigil.yaml --db DIR/metrics.db ARGS…` run in DIR (`env` on top of the isolated one). */
export function vigilIn(dir: string, ...args: string[]): Promise<CliRun> {
  return vigilInEnv(dir, {}, ...args);
}

export function vigilInEnv(dir: string, env: Readonly<Record<string, string>>, ...args: string[]): Promise<CliRun> {
  return runCli(['--config', join(dir, 'vigil.yaml'), '--db', join(dir, 'metrics.db'), ...args], { cwd: dir, env });
}
