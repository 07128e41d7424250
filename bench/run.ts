// Benchmark runner: `npm run bench -- <name> [flags]` runs bench/<name>.ts and prints its figures as JSON.
import { existsSync, readdirSync } from 'node:fs';

const [name = 'store', ...rest] = process.argv.slice(2);
const file = new URL(`./${name}.ts`, import.meta.url);
if (!/^[a-z][a-z0-9-]*$/.test(name) || name === 'run' || !existsSync(file)) {
  const available = readdirSync(new URL('.', import.meta.url))
    .filter((f) => f.endsWith('.ts') && f !== 'run.ts')
    .map((f) => f.slice(0, -3));
  process.stderr.write(`unknown benchmark "${name}"; available: ${available.join(', ')}\n`);
  process.exit(2);
}
const mod = (await import(file.href)) as { run(args: string[]): Promise<Record<string, unknown>> };
const started = performance.now();
const figures = await mod.run(rest);
process.stdout.write(
  `${JSON.stringify({ benchmark: name, args: rest, node: process.version, wallMs: Math.round(performance.now() - started), ...figures }, null, 2)}\n`,
);
