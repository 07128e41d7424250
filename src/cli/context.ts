import type { Command } from 'commander';
import { type LoadedConfig, loadConfig } from '../config/index.ts';

/** Options every command accepts (declared on the root program). */
export interface GlobalOptions {
  config?: string;
  db?: string;
}

/** Output streams and environment, injected so commands are testable in-process. */
export interface CliIo {
  readonly stdout: NodeJS.WritableStream & { isTTY?: boolean; columns?: number };
  readonly stderr: NodeJS.WritableStream & { isTTY?: boolean };
  readonly env: Readonly<Record<string, string | undefined>>;
  readonly cwd: string;
}

/** Exit codes: 0 ok, 1 runtime failure, 2 bad usage or bad input (config, CSV, arguments). */
export const EXIT_OK = 0;
export const EXIT_FAILURE = 1;
export const EXIT_USAGE = 2;

/** An error whose message is meant for the user as is (no stack trace), with its exit code. */
export class UserError extends Error {
  readonly exitCode: number;
  constructor(message: string, exitCode = EXIT_USAGE) {
    super(message);
    this.name = 'UserError';
    this.exitCode = exitCode;
  }
}

export function globalOptions(cmd: Command): GlobalOptions {
  return cmd.optsWithGlobals() as GlobalOptions;
}

/** Loads the effective config for a command, applying `--config` and `--db`. */
export function loadEffectiveConfig(cmd: Command, io: CliIo): LoadedConfig {
  const opts = globalOptions(cmd);
  const loaded = loadConfig({ path: opts.config, cwd: io.cwd, env: io.env, home: io.env.HOME });
  if (opts.db) loaded.config.storage.path = opts.db;
  return loaded;
}

/** Each file in src/cli/commands/ exports `register`, adding its command group to the program. */
export type RegisterCommands = (program: Command, io: CliIo) => void;
