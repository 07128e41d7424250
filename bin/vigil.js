#!/usr/bin/env node
// Entry point: runs the TypeScript sources directly through Node's type stripping.
// Node 22.13-22.17 needs the flag; newer Nodes strip types by default.
import { spawnSync } from 'node:child_process';

if (!process.features.typescript) {
  const args = [
    '--experimental-strip-types',
    '--disable-warning=ExperimentalWarning',
    ...process.execArgv,
    ...process.argv.slice(1),
  ];
  const r = spawnSync(process.execPath, args, { stdio: 'inherit' });
  process.exit(r.status ?? 1);
}
const { main } = await import('../src/cli/main.ts');
process.exitCode = await main(process.argv.slice(2));
