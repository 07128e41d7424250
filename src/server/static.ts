import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { extname } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { Context } from 'hono';
import { ApiError } from './errors.ts';

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
};

/** The dashboard's files (src/web/) and uPlot from node_modules, read once into memory; no CDN, no build step. */
export function staticAssets() {
  const web = new URL('../web/', import.meta.url);
  // Resolved like an import, so it works wherever npm placed (or hoisted) the package.
  const uplot = new URL('./', pathToFileURL(createRequire(import.meta.url).resolve('uplot/dist/uPlot.iife.min.js')));
  const files = new Map<string, { body: Uint8Array; type: string }>();
  const load = (name: string, dir: URL, file = name) => {
    files.set(name, {
      body: readFileSync(new URL(file, dir)),
      type: TYPES[extname(name)] ?? 'application/octet-stream',
    });
  };
  for (const f of [
    'index.html',
    'vm.html',
    'alerts.html',
    'rules.html',
    'silences.html',
    'app.css',
    'common.js',
    'fleet.js',
    'vm.js',
    'alerts.js',
    'rules.js',
    'silences.js',
  ])
    load(f, web);
  load('uplot.js', uplot, 'uPlot.iife.min.js');
  load('uplot.css', uplot, 'uPlot.min.css');
  return {
    serve(c: Context, name: string) {
      const f = files.get(name);
      if (!f) throw new ApiError(404, 'not_found', `no asset ${name}`);
      return c.body(f.body as Uint8Array<ArrayBuffer>, 200, { 'content-type': f.type, 'cache-control': 'no-cache' });
    },
  };
}
