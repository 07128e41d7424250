#!/usr/bin/env node
// Entry point: runs the TypeScript sources directly through Node's type stripping.
// Node 22.13-22.17 needs the flag; newer Nodes strip types by default.
import { spawn } from 'node:child_process';

if (!process.features.typescript) {
  const args = [
    '--experimental-strip-types',
    '--disable-warning=ExperimentalWarning',
    ...process.execArgv,
    ...process.argv.slice(1),
  ];
  const child = spawn(process.execPath, args, { stdio: 'inherit' });
  // `kill PID` (SIGTERM) reaches this process only: pass it on, so `vigil up` shuts down cleanly, not orphaned.
  // Ctrl-C and a terminal hangup reach the whole foreground process group, the child included: forwarding them
  // would deliver them twice (and a second SIGINT means "exit at once"), so this process just waits for the child.
  process.on('SIGTERM', () => child.kill('SIGTERM'));
  for (const sig of ['SIGINT', 'SIGHUP']) process.on(sig, () => {});
  child.on('exit', (code, signal) => process.exit(code ?? (signal ? 128 + (signalNumber(signal) ?? 1) : 1)));
} else {
  // `vigil history VM | head -2`: once the reader is gone, the rest of the output goes nowhere, quietly (no
  // unhandled EPIPE stack trace); the command finishes and exits with its own code.
  for (const stream of [process.stdout, process.stderr]) {
    stream.on('error', (e) => {
      if (e.code !== 'EPIPE' && e.code !== 'ERR_STREAM_DESTROYED') throw e;
    });
  }
  // Node caches the compiled modules on disk (in its temp directory), so later starts skip most of the parsing.
  const { enableCompileCache } = await import('node:module');
  enableCompileCache?.();
  const { main } = await import('../src/cli/main.ts');
  process.exitCode = await main(process.argv.slice(2));
}

function signalNumber(name) {
  return { SIGHUP: 1, SIGINT: 2, SIGKILL: 9, SIGTERM: 15 }[name];
}
