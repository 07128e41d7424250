// Web dashboard benchmark: first paint of the fleet page with 1,000 VMs (from navigation start to the table painted
// with data, the page's own clock) and the delay from an ingest to the new value on screen, in headless Chromium
// against 127.0.0.1. `npm run bench -- web [--runs 7] [--updates 20]`. Needs /usr/bin/chromium.
import { existsSync } from 'node:fs';
import { systemClock } from '../src/clock.ts';
import { type Sample, STANDARD_METRICS } from '../src/model/index.ts';
import { testServer } from '../src/server/testing/harness.ts';
import { CHROMIUM, launchChromium } from '../test/fakes/peers.ts';

function flag(args: string[], name: string, fallback: number): number {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? Number(args[i + 1]) : fallback;
}

function stats(xs: number[]): { median: number; p95: number; max: number; all: number[] } {
  const s = [...xs].sort((a, b) => a - b);
  const at = (q: number) => s[Math.min(s.length - 1, Math.floor(q * s.length))] ?? Number.NaN;
  return { median: at(0.5), p95: at(0.95), max: s[s.length - 1] ?? Number.NaN, all: xs };
}

function fleet(vms: number, now: number): Sample[] {
  const out: Sample[] = [];
  for (let i = 0; i < vms; i++) {
    const labels = { vm: `vm-${String(i).padStart(4, '0')}`, resource_group: `rg-${i % 5}`, source: 'demo' };
    // An hour of history every 5 minutes, so the sparklines have something to draw.
    for (let k = 12; k >= 0; k--)
      for (const metric of STANDARD_METRICS)
        out.push({
          metric,
          labels,
          ts: now - k * 300_000,
          value: ((i * 7 + k) % 60) + (metric.endsWith('_bytes') ? 1e6 : 0),
        });
  }
  return out;
}

export async function run(args: string[]): Promise<Record<string, unknown>> {
  if (!existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} not installed (apt-get install chromium)`);
  const runs = flag(args, 'runs', 7);
  const updates = flag(args, 'updates', 20);
  const vms = 1000;
  const h = testServer({ clock: systemClock });
  await h.ingestor().ingest(fleet(vms, Date.now()), [], 'collect');
  const { url, close } = await h.server.listen('127.0.0.1', 0);
  const browser = await launchChromium();
  try {
    const paint: number[] = [];
    for (let r = 0; r < runs; r++) {
      const page = await browser.newPage({ viewport: { width: 1600, height: 1000 } });
      await page.goto(url);
      await page.waitForSelector('body[data-ready="1"]', { timeout: 30_000 });
      paint.push(Math.round(await page.evaluate(() => Number(document.body.dataset.readyAt))));
      await page.close();
    }
    const page = await browser.newPage({ viewport: { width: 1600, height: 1000 } });
    await page.goto(url);
    await page.waitForSelector('body[data-ready="1"]', { timeout: 30_000 });
    await page.waitForFunction(() => document.getElementById('live')?.textContent?.includes('live'), undefined, {
      timeout: 30_000,
    });
    const live: number[] = [];
    for (let u = 0; u < updates; u++) {
      const text = `${(90 + (u % 9) + 0.5).toFixed(1)}%`;
      const labels = { vm: 'vm-0000', resource_group: 'rg-0', source: 'demo' };
      const t0 = performance.now();
      await h
        .ingestor()
        .ingest([{ metric: 'cpu_percent', labels, ts: Date.now(), value: Number.parseFloat(text) }], [], 'collect');
      await page.waitForFunction(
        (want) => document.querySelector('tr[data-vm="vm-0000"] td.num')?.textContent === want,
        text,
        { timeout: 30_000 },
      );
      live.push(Math.round(performance.now() - t0));
    }
    return {
      vms,
      firstPaintMs: { ...stats(paint), target: '< 1000 ms' },
      liveUpdateMs: { ...stats(live), target: '< 1000 ms' },
    };
  } finally {
    await browser.close();
    await close();
  }
}
