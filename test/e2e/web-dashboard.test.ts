import assert from 'node:assert/strict';
import { existsSync, mkdirSync } from 'node:fs';
import { after, before, test } from 'node:test';
import { type Browser, chromium, type Page } from 'playwright-core';
import { systemClock } from '../../src/clock.ts';
import type { Sample } from '../../src/model/index.ts';
import { testServer } from '../../src/server/testing/harness.ts';

const CHROMIUM = '/usr/bin/chromium';
const ARTIFACTS = 'test-artifacts';
const skip = existsSync(CHROMIUM) ? false : `${CHROMIUM} not installed (apt-get install chromium)`;

const h = testServer({ clock: systemClock, withAlerts: true });
let url = '';
let close: () => Promise<void> = async () => {};
let browser: Browser | undefined;

function snapshotSamples(vm: string, rg: string, ts: number, cpu: number): Sample[] {
  const labels = { vm, resource_group: rg, source: 'demo' };
  return [
    { metric: 'cpu_percent', labels, ts, value: cpu },
    { metric: 'memory_percent', labels, ts, value: 60 },
    { metric: 'disk_percent', labels, ts, value: 75 },
    { metric: 'disk_read_bytes', labels, ts, value: 5_000_000 },
    { metric: 'disk_write_bytes', labels, ts, value: 2_000_000 },
    { metric: 'network_in_bytes', labels, ts, value: 1_000_000 },
    { metric: 'network_out_bytes', labels, ts, value: 3_000_000 },
  ];
}

before(async () => {
  if (skip) return;
  mkdirSync(ARTIFACTS, { recursive: true });
  const now = Date.now();
  // 1,000 VMs with an hour of history (every 5 minutes); one failing.
  const samples: Sample[] = [];
  for (let i = 0; i < 1000; i++) {
    const vm = `vm-${String(i).padStart(4, '0')}`;
    for (let k = 12; k >= 0; k--)
      samples.push(...snapshotSamples(vm, `rg-${i % 5}`, now - k * 300_000, (i * 7 + k) % 60));
  }
  await h.ingestor().ingest(samples, [], 'collect');
  await h.ingestor().ingest(
    [],
    [
      {
        vm: 'vm-0999',
        labels: { resource_group: 'rg-4', source: 'demo' },
        ts: now,
        success: false,
        errorMessage: 'Connection timeout',
        durationMs: 5000,
      },
    ],
    'collect',
  );
  const l = await h.server.listen('127.0.0.1', 0);
  url = l.url;
  close = l.close;
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
});

after(async () => {
  await browser?.close();
  await close();
});

async function page(): Promise<Page> {
  const p = await browser!.newPage({ viewport: { width: 1600, height: 1000 } });
  p.on('pageerror', (e) => {
    throw e;
  });
  return p;
}

test('fleet page: 1,000 VMs painted under a second, colours, ERROR row, filter, sort, live update', {
  skip,
}, async () => {
  const p = await page();
  const started = Date.now();
  await p.goto(url);
  await p.waitForSelector('body[data-ready="1"]');
  const wallMs = Date.now() - started;
  // From navigation start to the table painted with data (the page's own clock).
  const paintMs = Math.round(await p.evaluate(() => Number(document.body.dataset.readyAt)));
  assert.equal(await p.locator('tbody tr').count(), 1000);
  assert.ok(paintMs < 1000, `first paint took ${paintMs} ms`);
  process.stdout.write(
    `# fleet first paint with 1000 VMs: ${paintMs} ms after navigation start (${wallMs} ms wall incl. goto)\n`,
  );
  const err = p.locator('tr[data-vm="vm-0999"] td.error');
  assert.equal(await err.textContent(), 'ERROR: Connection timeout');
  // Disk 75% is yellow.
  assert.match((await p.locator('tr[data-vm="vm-0001"] td.num').nth(2).getAttribute('class')) ?? '', /yellow/);

  await p.selectOption('#rg', 'rg-2');
  assert.equal(await p.locator('tbody tr').count(), 200);
  await p.selectOption('#rg', '');
  await p.click('th[data-k="vm"]'); // descending
  assert.equal(await p.locator('tbody tr').first().getAttribute('data-vm'), 'vm-0999');
  await p.click('th[data-k="vm"]');
  await p.screenshot({ path: `${ARTIFACTS}/fleet.png` });

  // Live: new data for vm-0000 appears within a second, without reload.
  await p.waitForFunction(() => document.getElementById('live')?.textContent?.includes('live'));
  const cpuCell = p.locator('tr[data-vm="vm-0000"] td.num').first();
  const t0 = Date.now();
  await h.ingestor().ingest(snapshotSamples('vm-0000', 'rg-0', Date.now(), 93.5), [], 'collect');
  await p.waitForFunction(
    () => document.querySelector('tr[data-vm="vm-0000"] td.num')?.textContent === '93.5%',
    undefined,
    { timeout: 1000 },
  );
  process.stdout.write(`# live update visible after ${Date.now() - t0} ms\n`);
  assert.match((await cpuCell.getAttribute('class')) ?? '', /red/);
  await p.screenshot({ path: `${ARTIFACTS}/fleet-live.png` });
  await p.close();
});

test('VM page: uPlot charts render each metric with its tier, and switch range', { skip }, async () => {
  const p = await page();
  await p.goto(`${url}/vm/vm-0001`);
  await p.waitForSelector('body[data-ready="1"]');
  assert.equal(await p.locator('.uplot canvas').count(), 7);
  assert.match((await p.locator('#c-cpu_percent .tier').textContent()) ?? '', /raw, 1[23] points/);
  // Forecasts appear when analytics has something to say (an hour of history is too little).
  await p.waitForFunction(() =>
    document.querySelector('#c-cpu_percent .forecast')?.textContent?.startsWith('forecast'),
  );
  await p.screenshot({ path: `${ARTIFACTS}/vm.png` });
  await p.click('button[data-r="24h"]');
  await p.waitForFunction(() => document.querySelector('#c-cpu_percent .tier')?.textContent?.includes('points'));
  assert.equal(await p.locator('.uplot').count(), 7);
  await p.close();
});

test('alerts page: acknowledging a firing alert', { skip }, async () => {
  await h.ingestor().ingest(snapshotSamples('vm-0002', 'rg-2', Date.now(), 97), [], 'collect');
  const p = await page();
  p.on('dialog', (d) => d.accept('on it'));
  await p.goto(`${url}/alerts`);
  await p.waitForSelector('body[data-ready="1"]');
  const card = p.locator('.alert', { hasText: 'vm-0002' });
  assert.equal(await card.locator('.status').textContent(), 'firing');
  await card.locator('button[data-act="ack"]').click();
  await p.waitForFunction(() =>
    [...document.querySelectorAll('.alert')].some(
      (c) => c.textContent?.includes('vm-0002') && c.querySelector('.status')?.textContent === 'acknowledged',
    ),
  );
  assert.match(
    (await p.locator('.alert', { hasText: 'vm-0002' }).textContent()) ?? '',
    /acknowledged by local.*on it/s,
  );
  await p.fill('#new-silence input[name="matchers"]', 'vm=vm-0002');
  // A live alert arriving while the operator types re-renders the lists, not the half-filled form.
  await h.ingestor().ingest(snapshotSamples('vm-0004', 'rg-0', Date.now(), 98), [], 'collect');
  await p.waitForSelector('.alert:has-text("vm-0004")');
  assert.equal(await p.inputValue('#new-silence input[name="matchers"]'), 'vm=vm-0002');
  await p.fill('#new-silence input[name="reason"]', 'maintenance');
  await p.click('#new-silence button[type="submit"]');
  await p.waitForFunction(() => document.body.textContent?.includes('vm=vm-0002'));
  assert.equal((await h.alerts!.listSilences(Date.now())).length, 1);
  await p.screenshot({ path: `${ARTIFACTS}/alerts.png` });
  await p.close();
});

test('role-aware: with tokens on, a viewer sees alerts but no action buttons; no token is asked for one', {
  skip,
}, async () => {
  await h.ingestor().ingest(snapshotSamples('vm-0003', 'rg-3', Date.now(), 99), [], 'collect');
  const viewer = h.auth.create({ role: 'viewer', name: 'wall-screen' }, Date.now()).token;
  const p = await page();
  await p.goto(`${url}/alerts?token=${viewer}`);
  await p.waitForSelector('body[data-ready="1"]');
  await p.waitForFunction(() => document.body.dataset.role === 'viewer');
  const card = p.locator('.alert', { hasText: 'vm-0003' });
  assert.equal(await card.locator('.status').textContent(), 'firing');
  assert.equal(await card.locator('button[data-act="ack"]').isVisible(), false);
  assert.equal(await p.locator('#new-silence').isVisible(), false);
  assert.doesNotMatch(p.url(), /token=/, 'token removed from the address bar');
  await p.screenshot({ path: `${ARTIFACTS}/alerts-viewer.png` });
  // A fresh browser without the token is asked for one.
  const ctx = await browser!.newContext();
  const anon = await ctx.newPage();
  const asked = new Promise<string>((resolve) =>
    anon.once('dialog', (d) => {
      resolve(d.message());
      void d.dismiss();
    }),
  );
  await anon.goto(url);
  assert.match(await asked, /API token is required/);
  await ctx.close();
  await p.close();
});
