// VM page: one uPlot chart per standard metric, ranges served from the right tier, alert thresholds drawn.
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
let thresholds = {};
let anomalies = [];
const forecasts = {};
const charts = new Map();

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
        const scale = metric.endsWith('_bytes') ? 1 / 1048576 : 1;
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
        for (const th of ths) {
          const y = u.valToPos(th.value, 'y', true);
          if (!Number.isFinite(y)) continue;
          ctx.save();
          ctx.strokeStyle = th.severity === 'critical' || th.severity === 'emergency' ? '#e5534b' : '#d4a72c';
          ctx.setLineDash([6, 4]);
          ctx.beginPath();
          ctx.moveTo(u.bbox.left, y);
          ctx.lineTo(u.bbox.left + u.bbox.width, y);
          ctx.stroke();
          ctx.restore();
        }
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
      const scale = metric.endsWith('_bytes') ? 1 / 1048576 : 1;
      const data = [pts.map((p) => p.ts / 1000), pts.map((p) => p.value * scale)];
      const el = document.getElementById(`c-${metric}`);
      el.querySelector('.tier').textContent = res.results[0]
        ? `(${res.results[0].tier}, ${pts.length} points)`
        : '(no data)';
      charts.get(metric)?.destroy();
      const opts = {
        width: Math.max(520, el.clientWidth - 4),
        height: 200,
        scales: { x: { time: true }, y: metric.endsWith('_percent') ? { range: [0, 100] } : {} },
        series: [{}, { label: title, stroke: '#6cb6ff', width: 1.5, fill: 'rgba(108,182,255,0.08)' }],
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
  try {
    const { rules } = await api('/api/v1/rules');
    for (const r of rules) {
      if (r.enabled === false || typeof r.threshold !== 'number' || !r.metric) continue;
      if (!thresholds[r.metric]) thresholds[r.metric] = [];
      thresholds[r.metric].push({ value: r.threshold, severity: r.severity });
    }
  } catch {
    thresholds = {};
  }
  try {
    const row = await api(`/api/v1/vms/${encodeURIComponent(vm)}`);
    document.getElementById('state').textContent = row.errorMessage
      ? `ERROR: ${row.errorMessage}`
      : `${row.resourceGroup ?? ''} ${row.source ?? ''}`;
  } catch (e) {
    document.getElementById('state').textContent = e.message;
  }
  api(`/api/v1/forecasts?vm=${encodeURIComponent(vm)}`)
    .then(({ forecasts: rows }) => {
      for (const f of rows) {
        forecasts[f.metric] = f;
        const el = document.querySelector(`#c-${f.metric} .forecast`);
        if (!el) continue;
        el.textContent =
          f.status === 'ok'
            ? `forecast (${f.model}): 7d ${f.predicted_7d.toFixed(1)} [${f.interval_7d.map((v) => v.toFixed(1)).join('–')}], 30d ${f.predicted_30d.toFixed(1)}, trend ${f.trend}${f.days_until_threshold != null ? `, reaches ${f.risk_threshold} in ${f.days_until_threshold.toFixed(1)} days` : ''}`
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
        const scale = metric.endsWith('_bytes') ? 1 / 1048576 : 1;
        const [xs, ys] = chart.data;
        chart.setData([
          [...xs, u.ts / 1000],
          [...ys, v * scale],
        ]);
      }
    }
  });
}
start();
