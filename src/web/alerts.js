// Alerts page: active alerts with ack / resolve / silence (shown to operators and admins) and active silences.
import { ago, api, createSilence, esc, live, nav } from './common.js';

nav('alerts');
const main = document.getElementById('main');
// The silence form is built once: live updates re-render the lists around it, never what an operator is typing.
main.innerHTML = `<div id="lists"></div>
  <h2 id="silences-title">Silences</h2>
  <form id="new-silence" class="bar op" hidden>
    <input name="matchers" placeholder="vm=web-01, resource_group=rg-a" size="36" required>
    <input name="duration" value="2h" size="5"> <input name="reason" placeholder="reason" size="24">
    <button type="submit">Add silence</button>
  </form>
  <div id="tables"></div>`;
const lists = document.getElementById('lists');
const tables = document.getElementById('tables');

/** Alert ids whose history is unfolded: kept open (and re-read) across live re-renders. */
const openHistory = new Set();

const num = (v) => (v == null ? '–' : Math.abs(v) >= 1000 ? v.toFixed(0) : String(+v.toFixed(2)));
const unit = (metric) => (metric?.endsWith('_percent') ? '%' : '');

/** `value 97% (threshold > 80%, peak 98%)`, or the no-data wording. */
function valueText(a) {
  if (a.kind === 'no_data' || a.threshold == null) return a.value == null ? 'no data' : `value ${num(a.value)}`;
  const u = unit(a.metric);
  const peak = a.peakValue != null && a.peakValue !== a.value ? `, peak ${num(a.peakValue)}${u}` : '';
  return `value ${num(a.value)}${u} (threshold ${a.comparison ?? '>'} ${num(a.threshold)}${u}${peak})`;
}

async function loadHistory(details) {
  const id = details.dataset.history;
  try {
    const { history } = await api(`/api/v1/alerts/${encodeURIComponent(id)}`);
    details.querySelector('.hist-body').innerHTML =
      `<table><tr><th>when</th><th>change</th><th>value</th><th>by</th><th>notes</th></tr>
      ${history
        .map(
          (t) =>
            `<tr><td>${new Date(t.at).toISOString().replace(/\.\d{3}Z$/, 'Z')}</td><td>${esc(t.from)} → ${esc(t.to)}</td><td>${esc(num(t.value))}</td><td>${esc(t.by ?? '')}</td><td>${esc(t.notes ?? t.reason ?? '')}</td></tr>`,
        )
        .join('')}</table>`;
  } catch (e) {
    details.querySelector('.hist-body').textContent = e.message;
  }
}

main.addEventListener(
  'toggle',
  (e) => {
    const d = e.target;
    if (!d.dataset?.history) return;
    if (d.open) {
      openHistory.add(d.dataset.history);
      loadHistory(d);
    } else openHistory.delete(d.dataset.history);
  },
  true,
);

async function render() {
  let alerts;
  try {
    alerts = (await api('/api/v1/alerts')).alerts;
  } catch (e) {
    lists.innerHTML = `<p class="mut">${esc(e.status === 503 ? 'Alerting is not running in this Vigil.' : e.message)}</p>`;
    document.body.dataset.ready = '1';
    return;
  }
  const [{ silences }, past] = await Promise.all([
    api('/api/v1/silences'),
    api('/api/v1/alerts/history').catch(() => ({ alerts: [] })),
  ]);
  lists.innerHTML = `<h2>Active alerts (${alerts.length})</h2>
  ${alerts.length === 0 ? '<p class="mut">No active alerts.</p>' : ''}
  ${alerts
    .map(
      (a) => `<div class="card alert" data-id="${esc(a.id)}">
      <b class="sev-${esc(a.severity)}">${esc(a.severity.toUpperCase())}</b> <b>${esc(a.title)}</b>
      <span class="status mut">${esc(a.status)}</span> <span class="mut">since ${ago(a.firedAt ?? a.startsAt)}</span>
      ${a.vm ? `<a href="/vm/${encodeURIComponent(a.vm)}">${esc(a.vm)}</a>` : ''}
      <div>${esc(a.message)}</div>
      <div class="ctx"><span class="value">${esc(valueText(a))}</span>
        ${Object.entries(a.labels ?? {})
          .map(([k, v]) => `<span class="label">${esc(k)}=${esc(v)}</span>`)
          .join(' ')}</div>
      ${a.related?.length ? `<div class="related mut">related: ${a.related.map((r) => esc(r.text)).join(' · ')}</div>` : ''}
      ${a.acknowledged ? `<div class="mut">acknowledged by ${esc(a.acknowledged.by)} ${ago(a.acknowledged.at)}${a.acknowledged.notes ? `: ${esc(a.acknowledged.notes)}` : ''}</div>` : ''}
      ${a.recommendations?.length ? `<ul>${a.recommendations.map((r) => `<li>${esc(r)}</li>`).join('')}</ul>` : ''}
      <details class="history" data-history="${esc(a.id)}" ${openHistory.has(a.id) ? 'open' : ''}><summary>History</summary><div class="hist-body mut">loading…</div></details>
      <div class="op">${a.status === 'firing' ? '<button data-act="ack">Acknowledge</button>' : ''}
        <button data-act="resolve">Resolve</button> <button data-act="suppress">Silence 24h</button></div>
    </div>`,
    )
    .join('')}
  <h2>Recently resolved (${past.alerts.length})</h2>
  <table><tr><th>severity</th><th>alert</th><th>VM</th><th>fired</th><th>resolved</th><th>reason</th></tr>
  ${past.alerts
    .slice(0, 100)
    .map(
      (a) =>
        `<tr><td class="sev-${esc(a.severity)}">${esc(a.severity)}</td><td>${esc(a.title)}</td><td>${esc(a.vm ?? '')}</td><td>${a.firedAt ? new Date(a.firedAt).toISOString() : '–'}</td><td>${a.resolvedAt ? ago(a.resolvedAt) : '–'}</td><td>${esc(a.resolveReason ?? '')}</td></tr>`,
    )
    .join('')}</table>`;
  for (const d of lists.querySelectorAll('details[open][data-history]')) loadHistory(d);
  document.getElementById('silences-title').textContent = `Silences (${silences.length})`;
  document.getElementById('new-silence').hidden = false;
  tables.innerHTML = `<table><tr><th>matchers</th><th>ends</th><th>by</th><th>reason</th><th></th></tr>
  ${silences.map((s) => `<tr><td>${esc(s.matchers.map((m) => `${m.name}${m.op}${m.value}`).join(', '))}</td><td>${new Date(s.endsAt).toISOString()}</td><td>${esc(s.createdBy)}</td><td>${esc(s.reason)}</td><td class="op"><button data-expire="${esc(s.id)}">Expire</button></td></tr>`).join('')}</table>
  <p class="mut">Expired silences: <a href="/silences">Silences</a> · thresholds and channels: <a href="/rules">Rules</a></p>`;
  document.body.dataset.ready = '1';
}

main.addEventListener('submit', async (e) => {
  if (e.target.id !== 'new-silence') return;
  e.preventDefault();
  try {
    await createSilence(e.target);
    await render();
  } catch (err) {
    alert(err.message);
  }
});

main.addEventListener('click', async (e) => {
  const act = e.target.dataset?.act;
  const expire = e.target.dataset?.expire;
  try {
    if (act) {
      const id = e.target.closest('.alert').dataset.id;
      const notes = act === 'ack' ? prompt('Notes (optional)') : null;
      await api(`/api/v1/alerts/${encodeURIComponent(id)}/${act}`, { method: 'POST', body: { notes } });
      await render();
    } else if (expire) {
      await api(`/api/v1/silences/${encodeURIComponent(expire)}`, { method: 'DELETE' });
      await render();
    }
  } catch (err) {
    alert(err.message);
  }
});

render();
let timer = null;
live((type) => {
  if (type !== 'alert') return;
  clearTimeout(timer);
  timer = setTimeout(render, 200);
});
