import type { Command } from 'commander';
import { systemClock } from '../../clock.ts';
import { createLogger } from '../../engine/logger.ts';
import { startVigil } from '../../engine/run.ts';
import { ServerStartError } from '../../server/index.ts';
import { resolveStorePath } from '../../store/store-path.ts';
import { type CliIo, EXIT_FAILURE, loadEffectiveConfig, UserError } from '../context.ts';

/** `12:01:00 cycle 14: 13 VMs, 12 ok, 1 failed, 91 samples in 0.4s | 2 active alerts` */
function statusLine(
  n: number,
  s: { at: number; targets: number; failures: number; samples: number; durationMs: number },
  alerts: number,
): string {
  const time = new Date(s.at).toISOString().slice(11, 19);
  return `${time} cycle ${n}: ${s.targets} VMs, ${s.targets - s.failures} ok, ${s.failures} failed, ${s.samples} samples in ${(s.durationMs / 1000).toFixed(1)}s | ${alerts} active alert${alerts === 1 ? '' : 's'}\n`;
}

export function register(program: Command, io: CliIo): void {
  program
    .command('up')
    .description('run Vigil: collect every interval, store, alert, notify and serve the dashboard until Ctrl-C')
    .option('--host <host>', 'HTTP listen address (default: server.host, 127.0.0.1)')
    .option('--port <port>', 'HTTP port (default: server.port, 7070; 0 picks a free one)')
    .option('--no-server', 'run without the HTTP API and web dashboard')
    .option('--quiet', 'no per-cycle status line')
    .action(async (opts: { host?: string; port?: string; server: boolean; quiet?: boolean }, cmd: Command) => {
      const loaded = loadEffectiveConfig(cmd, io);
      let port: number | undefined;
      if (opts.port !== undefined) {
        port = Number(opts.port);
        if (!Number.isInteger(port) || port < 0 || port > 65535)
          throw new UserError(`--port: expected a port number 0-65535, got "${opts.port}"`);
      }
      const log = createLogger(io.stderr, () => systemClock.now());

      // Signals are handled from the start: one during startup stops Vigil as soon as it is up.
      let signalled: NodeJS.Signals | null = null;
      let requestStop: (signal: NodeJS.Signals) => void = () => {};
      const stopRequested = new Promise<NodeJS.Signals>((resolve) => {
        requestStop = resolve;
      });
      const onSignal = (signal: NodeJS.Signals) => {
        if (signalled) {
          // A second signal does not wait; every write Vigil acknowledged is durable already.
          io.stderr.write(`${signal} again: exiting now without waiting for the shutdown to finish\n`);
          process.exit(EXIT_FAILURE);
        }
        signalled = signal;
        requestStop(signal);
      };
      process.on('SIGINT', onSignal);
      process.on('SIGTERM', onSignal);
      try {
        // Status lines of cycles that finish before the startup banner is printed wait for it.
        let cycles = 0;
        let held: string[] | null = [];
        const vigil = await startVigil({
          loaded,
          clock: systemClock,
          log,
          env: io.env,
          cwd: io.cwd,
          ...(io.env.HOME ? { home: io.env.HOME } : {}),
          ...(opts.host ? { host: opts.host } : {}),
          ...(port !== undefined ? { port } : {}),
          ...(opts.server === false ? { server: false } : {}),
          stdout: io.stdout,
          onCycle: (s, alerts) => {
            cycles++;
            if (opts.quiet) return;
            const line = statusLine(cycles, s, alerts);
            if (held) held.push(line);
            else io.stdout.write(line);
          },
        }).catch((e: unknown) => {
          throw e instanceof ServerStartError ? new UserError(e.message, EXIT_FAILURE) : e;
        });
        const c = loaded.config;
        io.stdout.write(
          [
            `Vigil ${vigil.engine.status().version} is up`,
            `  config:   ${loaded.path ?? 'built-in defaults (write one with `vigil config init`)'}`,
            `  store:    ${resolveStorePath(c.storage.path)}`,
            `  sources:  ${vigil.sources.map((s) => `${s.name} (${s.type})`).join(', ') || 'none'}`,
            `  interval: ${c.collection.interval / 1000}s`,
            `  dashboard: ${vigil.url ?? 'off (--no-server)'}`,
            'Press Ctrl-C to stop.',
            '',
          ].join('\n'),
        );
        for (const line of held) io.stdout.write(line);
        held = null;

        const signal = await stopRequested;
        io.stdout.write(`\n${signal}: stopping (finishing the cycle in flight; once more to exit at once)…\n`);
        await vigil.stop();
        io.stdout.write('Vigil stopped; everything collected is stored.\n');
      } finally {
        process.off('SIGINT', onSignal);
        process.off('SIGTERM', onSignal);
      }
    });
}
