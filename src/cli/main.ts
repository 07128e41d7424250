import { systemClock } from '../clock.ts';
import type { CliIo } from './context.ts';
import { paintDashboardEarly } from './early-dashboard.ts';

/**
 * The CLI: `vigil dashboard` in a terminal paints its first screen before commander and the config schema load
 * (early-dashboard.ts), then the program parses argv and runs the command. Returns the exit code.
 */
export async function main(argv: string[], io: CliIo = defaultIo()): Promise<number> {
  await paintDashboardEarly(argv, io, systemClock.now());
  const { runProgram } = await import('./program.ts');
  return runProgram(argv, io);
}

function defaultIo(): CliIo {
  return { stdout: process.stdout, stderr: process.stderr, env: process.env, cwd: process.cwd() };
}
