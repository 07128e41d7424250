import { readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Command, CommanderError } from 'commander';
import { ConfigError } from '../config/index.ts';
import { type CliIo, EXIT_FAILURE, EXIT_USAGE, type RegisterCommands, UserError } from './context.ts';
import { discardEarlyPaint } from './early-dashboard.ts';

const VERSION = '0.1.0';

export function buildProgram(io: CliIo, argv: readonly string[] = []): Promise<Command> {
  const program = new Command('vigil')
    .description('Monitoring, alerting and forecasting for fleets of VMs')
    .version(VERSION)
    .option('-c, --config <path>', 'config file (default: ./vigil.yaml, else ~/.vigil/config.yaml)')
    .option('--db <path>', 'SQLite database file (overrides storage.path)')
    .showHelpAfterError()
    .exitOverride()
    .configureOutput({
      writeOut: (s) => io.stdout.write(s),
      writeErr: (s) => io.stderr.write(s),
    });
  return registerAll(program, io, commandName(argv)).then(() => program);
}

/** The command word of argv (skipping global options and their values), if any. */
function commandName(argv: readonly string[]): string | undefined {
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '-c' || a === '--config' || a === '--db') i++;
    else if (!a.startsWith('-')) return a;
  }
  return undefined;
}

/**
 * Command groups are discovered from src/cli/commands/, one file per group named after its command, so adding one
 * touches nothing else. Only the file of the command being run is loaded (start-up time matters for `vigil
 * dashboard` and scripts); help and unknown commands load them all.
 */
async function registerAll(program: Command, io: CliIo, command: string | undefined): Promise<void> {
  const dir = fileURLToPath(new URL('./commands/', import.meta.url));
  const all = readdirSync(dir)
    .filter((f) => f.endsWith('.ts') && !f.endsWith('.test.ts'))
    .sort();
  const files = command && all.includes(`${command}.ts`) ? [`${command}.ts`] : all;
  for (const f of files) {
    const mod = (await import(new URL(`./commands/${f}`, import.meta.url).href)) as { register: RegisterCommands };
    mod.register(program, io);
  }
}

/** Parses argv and runs the command; returns the exit code. */
export async function runProgram(argv: string[], io: CliIo): Promise<number> {
  const program = await buildProgram(io, argv);
  try {
    await program.parseAsync(argv, { from: 'user' });
    return typeof process.exitCode === 'number' ? process.exitCode : 0;
  } catch (e) {
    await discardEarlyPaint(io);
    return reportError(e, io);
  }
}

function reportError(e: unknown, io: CliIo): number {
  if (e instanceof CommanderError) {
    // Commander already printed its message; help and version are not errors.
    if (e.code === 'commander.helpDisplayed' || e.code === 'commander.version' || e.code === 'commander.help') return 0;
    return EXIT_USAGE;
  }
  if (e instanceof ConfigError) {
    io.stderr.write(`${e.message}\n`);
    return EXIT_USAGE;
  }
  if (e instanceof UserError) {
    io.stderr.write(`vigil: ${e.message}\n`);
    return e.exitCode;
  }
  const err = e as Error;
  io.stderr.write(`vigil: ${err?.message ?? String(e)}\n`);
  if (io.env.VIGIL_DEBUG) io.stderr.write(`${err?.stack ?? ''}\n`);
  return EXIT_FAILURE;
}
