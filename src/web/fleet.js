// Fleet page: every VM live, colour-coded, sortable, filterable, updated from the event stream.
import { ago, api, esc, level, live, mb, nav, pct } from './common.js';

nav('fleet');
const main = document.getElementById('main');
main.innerHTML = `<div class="bar">
  <label>Resource group <select id="rg"><option value="">all</option></select></label>
  <label>Source <select id="src"><option value="">all</option></select></label>
  <input id="q" placeholder="filter VMs / tags" size="24">
  <span id="count" class="mut"></span><span id="live" class="mut"></span>
</div>
<table id="fleet"><thead><tr>
  <th data-k="vm">VM</th><th data-k="resourceGroup">Group</th><th data-k="source">Source</th>
  <th data-k="cpu_percent">CPU</th><th data-k="memory_percent">Memory</th><th data-k="disk_percent">Disk</th>
  <th data-k="disk_read_bytes">Disk R MB</th><th data-k="disk_write_bytes">Disk W MB</th>
  <th data-k="network_in_bytes">Net in MB</th><th data-k="network_out_bytes">Net out MB</th>
  <th>CPU last hour</th><th data-k="ts">Updated</th>
</tr></thead><tbody></tbody></table>`;

const HOUR = 3_600_000;
const vms = new Map(); // vm -> row state
let sortKey = 'vm';
let sortDir = 1;
const tbody = main.querySelector('tbody');

function key(r, k) {
  if (k === 'vm' || k === 'resourceGroup' || k === 'source') return r[k] ?? '';
  if (k === 'ts') return r.ts ?? 0;
  return r.errorMessage ? -1 : (r.metrics[k] ?? -1);
}

function spark(points) {
  if (!points || points.length < 2) return '<svg class="spark"></svg>';
  const t0 = points[0][0];
  const span = Math.max(1, points[points.length - 1][0] - t0);
  const d = points
    .map((p) => `${((p[0] - t0) / span) * 120},${20 - (Math.min(100, Math.max(0, p[1])) / 100) * 20}`)
    .join(' ');
  const last = points[points.length - 1][1];
  return `<svg class="spark" viewBox="0 0 120 20" preserveAspectRatio="none"><polyline fill="none" stroke="currentColor" class="${level(last)}" stroke-width="1.2" points="${d}"/></svg>`;
}

function cells(r) {
  const m = r.metrics;
  const link = `<td><a href="/vm/${encodeURIComponent(r.vm)}">${esc(r.vm)}</a></td><td>${esc(r.resourceGroup)}</td><td>${esc(r.source)}</td>`;
  if (r.errorMessage) {
    return `${link}<td colspan="7" class="error">ERROR: ${esc(r.errorMessage)}</td><td>${spark(r.spark)}</td><td class="mut">${ago(r.ts)}</td>`;
  }
  const p = (k) => `<td class="num ${level(m[k])}">${pct(m[k])}</td>`;
  const b = (k) => `<td class="num">${mb(m[k])}</td>`;
  return `${link}${p('cpu_percent')}${p('memory_percent')}${p('disk_percent')}${b('disk_read_bytes')}${b('disk_write_bytes')}${b('network_in_bytes')}${b('network_out_bytes')}<td>${spark(r.spark)}</td><td class="mut" data-ts="${r.ts ?? ''}">${ago(r.ts)}</td>`;
}

function shown(r) {
  const rg = document.getElementById('rg').value;
  const src = document.getElementById('src').value;
  const q = document.getElementById('q').value.trim().toLowerCase();
  if (rg && r.resourceGroup !== rg) return false;
  if (src && r.source !== src) return false;
  if (q && !`${r.vm} ${Object.values(r.labels || {}).join(' ')}`.toLowerCase().includes(q)) return false;
  return true;
}

/** The rows to show, filtered and sorted as the controls say. */
function visibleRows() {
  const rows = [...vms.values()].filter(shown);
  rows.sort((a, b) => {
    const x = key(a, sortKey);
    const y = key(b, sortKey);
    return (x < y ? -1 : x > y ? 1 : 0) * sortDir || (a.vm < b.vm ? -1 : a.vm > b.vm ? 1 : 0);
  });
  return rows;
}

/** VM names in the order the table shows them now. */
let shownOrder = [];

function render(rows = visibleRows()) {
  shownOrder = rows.map((r) => r.vm);
  const html = rows
    .map((r) => `<tr data-vm="${esc(r.vm)}" class="${r.errorMessage ? 'err' : ''}">${cells(r)}</tr>`)
    .join('');
  tbody.innerHTML = html;
  for (const tr of tbody.children) vms.get(tr.dataset.vm).tr = tr;
  document.getElementById('count').textContent = `${rows.length} of ${vms.size} VMs`;
  for (const th of main.querySelectorAll('th[data-k]'))
    th.textContent =
      th.textContent.replace(/ [▲▼]$/, '') + (th.dataset.k === sortKey ? (sortDir > 0 ? ' ▲' : ' ▼') : '');
}

function options() {
  for (const [id, field] of [
    ['rg', 'resourceGroup'],
    ['src', 'source'],
  ]) {
    const sel = document.getElementById(id);
    const have = new Set([...sel.options].map((o) => o.value));
    for (const r of vms.values()) {
      const v = r[field];
      if (v && !have.has(v)) {
        have.add(v);
        sel.add(new Option(v, v));
      }
    }
  }
}

main.querySelector('thead').addEventListener('click', (e) => {
  const k = e.target.closest('th')?.dataset.k;
  if (!k) return;
  sortDir = k === sortKey ? -sortDir : 1;
  sortKey = k;
  render();
});
for (const id of ['rg', 'src']) document.getElementById(id).addEventListener('change', () => render());
document.getElementById('q').addEventListener('input', () => render());

let pending = false;
function applyUpdates(updates) {
  let added = false;
  for (const u of updates) {
    let r = vms.get(u.vm);
    if (!r) {
      r = {
        vm: u.vm,
        resourceGroup: u.resourceGroup,
        source: u.source,
        labels: u.labels ?? {},
        metrics: {},
        spark: [],
        ts: null,
        errorMessage: null,
      };
      vms.set(u.vm, r);
      added = true;
    } else if (u.labels) {
      r.labels = { ...r.labels, ...u.labels };
      if (u.resourceGroup) r.resourceGroup = u.resourceGroup;
      if (u.source) r.source = u.source;
    }
    if (Object.keys(u.metrics).length > 0) {
      r.metrics = { ...r.metrics, ...u.metrics };
      r.errorMessage = null;
      if (u.metrics.cpu_percent != null) {
        r.spark.push([u.ts, u.metrics.cpu_percent]);
        while (r.spark.length && r.spark[0][0] < u.ts - HOUR) r.spark.shift();
      }
    }
    if (u.success === false) {
      r.errorMessage = u.errorMessage || 'collection failed';
      r.metrics = {};
    } else if (u.success === true) r.errorMessage = null;
    r.ts = Math.max(r.ts ?? 0, u.ts);
    r.dirty = true;
  }
  if (added) {
    options();
    render();
    return;
  }
  if (pending) return;
  pending = true;
  requestAnimationFrame(() => {
    pending = false;
    // New values may move rows (sorted by a metric or by time) or move them in or out of the filter: then re-render
    // the table; otherwise patch only the rows that changed.
    const rows = visibleRows();
    if (rows.length !== shownOrder.length || rows.some((r, i) => r.vm !== shownOrder[i])) {
      for (const r of vms.values()) r.dirty = false;
      render(rows);
      return;
    }
    for (const r of vms.values()) {
      if (!r.dirty) continue;
      r.dirty = false;
      if (r.tr) {
        r.tr.className = r.errorMessage ? 'err' : '';
        r.tr.innerHTML = cells(r);
      }
    }
  });
}

async function start() {
  const [{ vms: rows }, spark] = await Promise.all([
    api('/api/v1/vms'),
    api('/api/v1/sparklines?metric=cpu_percent').catch(() => ({ series: {} })),
  ]);
  for (const r of rows) vms.set(r.vm, { ...r, spark: spark.series[r.vm] || [] });
  options();
  render();
  requestAnimationFrame(() => {
    document.body.dataset.readyAt = String(Math.round(performance.now()));
    document.body.dataset.ready = '1';
  });
  live((type, data) => {
    if (type === 'vms') applyUpdates(data);
    if (type === 'hello') document.getElementById('live').textContent = '· live';
  });
  setInterval(() => {
    for (const td of tbody.querySelectorAll('td[data-ts]')) td.textContent = ago(Number(td.dataset.ts));
  }, 5000);
}

start().catch((e) => {
  main.insertAdjacentHTML('afterbegin', `<p class="red">${esc(e.message)}</p>`);
});
