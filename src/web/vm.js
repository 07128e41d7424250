// VM page: one uPlot chart per standard metric, ranges served from the right tier, the thresholds of the rules that
// select this VM drawn, anomalies as dots, the forecast (line and 80 % band) on the 7d/30d/90d ranges; drag to zoom
// (double-click resets); live points are appended without losing the zoom.
import { api, esc, live, nav } from './common.js';

nav('vm');
const vm = decodeURIComponent(location.pathname.split('/').pop());
const main = document.getElementById('main');
const RANGES = {
  '1h': 3_600_000,
  '24h': 86_400_000,
  '7d': 7 * 86_400_000,
  '30d': 30 * 86_400_000,
  '90d': 90 * 86_400_000,
};
const METRICS = [
  ['cpu_percent', 'CPU %'],
  ['memory_percent', 'Memory %'],
  ['disk_percent', 'Disk %'],
  ['disk_read_bytes', 'Disk read MB'],
  ['disk_write_bytes', 'Disk write MB'],
  ['network_in_bytes', 'Network in MB'],
  ['network_out_bytes', 'Network out MB'],
];
let range = new URLSearchParams(location.search).get('range') || '1h';
/** Chart units: MB for the bytes metrics (as the series), the raw value otherwise. */
const scaleOf = (metric) => (metric.endsWith('_bytes') ? 1 / 1048576 : 1);
/** How far each range draws the forecast into the future (none on 1h/24h: days of forecast would squash the hours). */
const FORECAST_AHEAD = { '7d': 7, '30d': 30, '90d': 30 };
let thresholds = {};
let anomalies = [];
const forecasts = {};
const charts = new Map();
window.vigilCharts = charts;

/** A y range holding the data and every threshold drawn for `metric` (so a line is never just off the chart). */
function fitRange(min, max, metric) {
  const values = (thresholds[metric] || []).map((t) => t.value * scaleOf(metric));
  if (min != null) values.push(min);
  if (max != null) values.push(max);
  if (values.length === 0) return [0, 1];
  const lo = Math.min(...values);
  const hi = Math.max(...values);
  const pad = (hi - lo) * 0.08 || Math.abs(hi) * 0.1 || 1;
  return [lo >= 0 ? Math.max(0, lo - pad) : lo - pad, hi + pad];
}

/** Prometheus-style label matchers (anchored regexes), as the alerting engine applies a rule's `match`. */
function matches(matchers, labels) {
  return matchers.every((m) => {
    const v = labels[m.name] ?? '';
    if (m.op === '=') return v === m.value;
    if (m.op === '!=') return v !== m.value;
    const hit = new RegExp(`^(?:${m.value})$`).test(v);
    return m.op === '=~' ? hit : !hit;
  });
}

main.innerHTML = `<div class="bar"><h2 style="margin:0">${esc(vm)}</h2> <span id="state" class="mut"></span>
  ${Object.keys(RANGES)
    .map((r) => `<button data-r="${r}">${r}</button>`)
    .join('')}
  <a href="/api/v1/export.csv?vm=${encodeURIComponent(vm)}&range=${range}" id="csv">CSV</a></div>
  <div class="charts">${METRICS.map(([m, t]) => `<div class="chart" id="c-${m}"><h3>${t} <span class="mut tier"></span></h3><div class="mut forecast"></div></div>`).join('')}</div>`;

function thresholdPlugin(metric) {
  return {
    hooks: {
      draw: (u) => {
        const ths = thresholds[metric] || [];
        const ctx = u.ctx;
        const scale = scaleOf(metric);
        for (const a of anomalies.filter((x) => x.metric === metric)) {
          const x = u.valToPos(a.ts / 1000, 'x', true);
          const y = u.valToPos(a.value * scale, 'y', true);
          if (!Number.isFinite(x) || x < u.bbox.left || x > u.bbox.left + u.bbox.width) continue;
          ctx.save();
          ctx.fillStyle = '#e5534b';
          ctx.beginPath();
          ctx.arc(x, y, 4 * devicePixelRatio, 0, 2 * Math.PI);
          ctx.fill();
          ctx.restore();
        }
        const drawn = [];
        for (const th of ths) {
          const y = u.valToPos(th.value * scale, 'y', true);
          if (!Number.isFinite(y) || y < u.bbox.top || y > u.bbox.top + u.bbox.height) continue;
          drawn.push(`${th.rule}:${+(th.value * scale).toFixed(4)}`);
          ctx.save();
          ctx.strokeStyle = th.severity === 'critical' || th.severity === 'emergency' ? '#e5534b' : '#d4a72c';
          ctx.setLineDash([6, 4]);
          ctx.beginPath();
          ctx.moveTo(u.bbox.left, y);
          ctx.lineTo(u.bbox.left + u.bbox.width, y);
          ctx.stroke();
          ctx.restore();
        }
        u.root.parentElement.dataset.thresholds = drawn.join(' ');
      },
    },
  };
}

async function load() {
  for (const b of main.querySelectorAll('button[data-r]')) b.classList.toggle('on', b.dataset.r === range);
  document.getElementById('csv').href = `/api/v1/export.csv?vm=${encodeURIComponent(vm)}&range=${range}`;
  const span = RANGES[range];
  const days = Math.max(1, Math.min(90, Math.round(span / 86_400_000)));
  anomalies = await api(`/api/v1/anomalies?vm=${encodeURIComponent(vm)}&days=${days}`)
    .then((r) => r.anomalies)
    .catch(() => []);
  const step =
    span <= 3_600_000 ? '' : span <= 86_400_000 ? '&step=5m' : span <= 7 * 86_400_000 ? '&step=1h' : '&step=1d';
  await Promise.all(
    METRICS.map(async ([metric, title]) => {
      const res = await api(
        `/api/v1/series?metric=${metric}&vm=${encodeURIComponent(vm)}&range=${range}&resolution=auto${step}`,
      );
      const pts = res.results[0]?.points || [];
      const scale = scaleOf(metric);
      const xs = pts.map((p) => p.ts / 1000);
      const ys = pts.map((p) => p.value * scale);
      const data = [xs, ys];
      const series = [{}, { label: title, stroke: '#6cb6ff', width: 1.5, fill: 'rgba(108,182,255,0.08)' }];
      const bands = [];
      const f = forecasts[metric];
      const ahead = FORECAST_AHEAD[range];
      if (ahead && f?.status === 'ok' && pts.length > 0) {
        // From the last point to now + 7 d (and now + 30 d): the point forecast and its 80 % interval as a band.
        const now = Date.now() / 1000;
        const last = ys.length - 1;
        const future = [[now + 7 * 86_400, f.predicted_7d, f.interval_7d]];
        if (ahead >= 30) future.push([now + 30 * 86_400, f.predicted_30d, f.interval_30d]);
        const lead = [...ys.slice(0, last).map(() => null), ys[last]];
        data[0] = [...xs, ...future.map((p) => p[0])];
        data[1] = [...ys, ...future.map(() => null)];
        data.push(
          [...lead, ...future.map((p) => p[1] * scale)],
          [...lead, ...future.map((p) => p[2][0] * scale)],
          [...lead, ...future.map((p) => p[2][1] * scale)],
        );
        series.push(
          { label: `forecast (${f.model})`, stroke: '#c297ff', width: 1.5, dash: [5, 4] },
          { label: '80% low', stroke: 'rgba(194,151,255,0.35)', width: 1 },
          { label: '80% high', stroke: 'rgba(194,151,255,0.35)', width: 1 },
        );
        bands.push({ series: [4, 3], fill: 'rgba(194,151,255,0.15)' });
      }
      const el = document.getElementById(`c-${metric}`);
      el.querySelector('.tier').textContent = res.results[0]
        ? `(${res.results[0].tier}, ${pts.length} points)`
        : '(no data)';
      charts.get(metric)?.destroy();
      const opts = {
        width: Math.max(520, el.clientWidth - 4),
        height: 200,
        scales: {
          x: { time: true },
          y: metric.endsWith('_percent')
            ? { range: [0, 100] }
            : { range: (_u, min, max) => fitRange(min, max, metric) },
        },
        series,
        bands,
        axes: [
          { stroke: '#7b8794', grid: { stroke: '#1e232a' } },
          { stroke: '#7b8794', grid: { stroke: '#1e232a' } },
        ],
        plugins: [thresholdPlugin(metric)],
      };
      const chart = new uPlot(opts, data, el);
      chart.metric = metric;
      charts.set(metric, chart);
    }),
  );
  document.body.dataset.ready = '1';
}

main.addEventListener('click', (e) => {
  const r = e.target.dataset?.r;
  if (!r) return;
  range = r;
  history.replaceState(null, '', `?range=${r}`);
  load();
});

async function start() {
  let labels = { vm };
  try {
    const row = await api(`/api/v1/vms/${encodeURIComponent(vm)}`);
    labels = { ...row.labels, vm };
    document.getElementById('state').textContent = row.errorMessage
      ? `ERROR: ${row.errorMessage}`
      : `${row.resourceGroup ?? ''} ${row.source ?? ''}`;
  } catch (e) {
    document.getElementById('state').textContent = e.message;
  }
  try {
    const { rules } = await api('/api/v1/rules');
    for (const r of rules) {
      if (r.enabled === false || r.type === 'no_data' || typeof r.threshold !== 'number' || !r.metric) continue;
      if (!matches(r.matchers ?? [], labels)) continue;
      if (!thresholds[r.metric]) thresholds[r.metric] = [];
      thresholds[r.metric].push({ rule: r.name, value: r.threshold, severity: r.severity });
    }
  } catch {
    thresholds = {};
  }
  await api(`/api/v1/forecasts?vm=${encodeURIComponent(vm)}`)
    .then(({ forecasts: rows }) => {
      for (const f of rows) {
        forecasts[f.metric] = f;
        const el = document.querySelector(`#c-${f.metric} .forecast`);
        if (!el) continue;
        el.textContent =
          f.status === 'ok'
            ? `forecast (${f.model}): 7d ${f.predicted_7d.toFixed(1)} [${f.interval_7d.map((v) => v.toFixed(1)).join('–')}], 30d ${f.predicted_30d.toFixed(1)}, trend ${f.trend}${f.days_until_threshold != null ? `, reaches ${f.risk_threshold} in ${f.days_until_threshold.toFixed(1)} days` : ''}; drawn on the 7d, 30d and 90d ranges`
            : `forecast: ${f.message}`;
        el.classList.toggle('red', f.status === 'ok' && f.at_risk);
      }
    })
    .catch(() => {});
  await load();
  live((type, data) => {
    if (type !== 'vms' || range !== '1h') return;
    for (const u of data) {
      if (u.vm !== vm) continue;
      for (const [metric, chart] of charts) {
        const v = u.metrics[metric];
        if (v == null) continue;
        const [xs, ys] = chart.data;
        if (xs.length > 0 && u.ts / 1000 <= xs[xs.length - 1]) continue;
        // Zoomed in (drag-select): keep the user's window; else follow the data.
        const { min, max } = chart.scales.x;
        const zoomed = xs.length > 1 && (min > xs[0] || max < xs[xs.length - 1]);
        chart.setData(
          [
            [...xs, u.ts / 1000],
            [...ys, v * scaleOf(metric)],
          ],
          !zoomed,
        );
        if (zoomed) chart.setScale('x', { min, max });
      }
    }
  });
}
start();
