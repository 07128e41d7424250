// Rules page: the rules in force; admins add, edit (threshold, severity, for, enabled, channels) and delete them.
// Every change goes through the rules API, which writes the YAML config file and reloads the rules.
import { api, dur, esc, matcherText, nav } from './common.js';

const SEVERITIES = ['info', 'warning', 'critical', 'emergency', 'auto'];
const COMPARISONS = ['>', '>=', '<', '<=', '==', '!='];

const main = document.getElementById('main');
main.innerHTML = `<h2 id="rules-title">Rules</h2>
  <p id="rules-note" class="mut"></p>
  <form id="new-rule" class="bar adm" hidden>
    <input name="name" placeholder="name" size="14" required>
    <input name="metric" placeholder="metric, e.g. cpu_percent" size="20" required>
    <select name="comparison">${COMPARISONS.map((c) => `<option>${esc(c)}</option>`).join('')}</select>
    <input name="threshold" type="number" step="any" placeholder="threshold" size="7" required>
    <input name="for" placeholder="for, e.g. 5m" size="7">
    <select name="severity">${SEVERITIES.map((s) => `<option ${s === 'warning' ? 'selected' : ''}>${s}</option>`).join('')}</select>
    <input name="notification_channels" placeholder="channels, e.g. slack, email" size="18">
    <input name="match" placeholder="match, e.g. resource_group=rg-a" size="22">
    <button type="submit">Add rule</button>
  </form>
  <p id="rules-error" class="err-msg"></p>
  <div id="rules"></div>`;
const list = document.getElementById('rules');
const errorLine = document.getElementById('rules-error');
let rules = [];
let editing = null;

const channelsOf = (text) =>
  String(text ?? '')
    .split(',')
    .map((c) => c.trim())
    .filter(Boolean);

/** `resource_group=rg-a, vm=~web-.*` → the config's `match:` mapping (`{resource_group: 'rg-a', vm: '=~web-.*'}`). */
function matchOf(text) {
  const out = {};
  for (const part of channelsOf(text)) {
    const m = /^([A-Za-z_][A-Za-z0-9_]*)\s*(=~|!~|!=|=)\s*(.*)$/.exec(part);
    if (!m) throw new Error(`match "${part}": expected label=value, label!=value, label=~regex or label!~regex`);
    out[m[1]] = m[2] === '=' ? m[3] : `${m[2]}${m[3]}`;
  }
  return out;
}

function row(r) {
  if (editing === r.name) {
    const thresholdCell =
      r.type === 'no_data'
        ? '<td class="mut">no data</td>'
        : `<td>${esc(r.comparison)} <input name="threshold" type="number" step="any" size="6" value="${esc(r.threshold)}"></td>`;
    return `<tr class="editing" data-rule="${esc(r.name)}"><td>${esc(r.name)}</td><td>${esc(r.metric || r.type)}</td>
      ${thresholdCell}
      <td><input name="for" size="5" value="${esc(dur(r.forMs))}"></td>
      <td><select name="severity">${SEVERITIES.map((s) => `<option ${s === r.severity ? 'selected' : ''}>${s}</option>`).join('')}</select></td>
      <td><input name="enabled" type="checkbox" ${r.enabled ? 'checked' : ''}></td>
      <td><input name="notification_channels" size="14" value="${esc(r.channels.join(', '))}"></td>
      <td>${esc(r.matchers.map(matcherText).join(', '))}</td><td>${esc(r.tenant ?? '')}</td>
      <td><button data-act="save">Save</button> <button data-act="cancel">Cancel</button></td></tr>`;
  }
  return `<tr data-rule="${esc(r.name)}" class="${r.enabled ? '' : 'disabled'}"><td>${esc(r.name)}</td><td>${esc(r.metric || r.type)}</td>
    <td>${r.type === 'no_data' ? 'no data' : `${esc(r.comparison)} ${esc(r.threshold)}`}</td><td>${esc(dur(r.forMs))}</td>
    <td class="sev-${esc(r.severity)}">${esc(r.severity)}</td><td class="enabled">${r.enabled ? 'yes' : 'no'}</td>
    <td>${esc(r.channels.join(', '))}</td><td>${esc(r.matchers.map(matcherText).join(', '))}</td><td>${esc(r.tenant ?? '')}</td>
    <td class="adm"><button data-act="edit">Edit</button> <button data-act="delete">Delete</button></td></tr>`;
}

function draw() {
  document.getElementById('rules-title').textContent = `Rules (${rules.length})`;
  list.innerHTML = `<table><tr><th>name</th><th>metric</th><th>condition</th><th>for</th><th>severity</th><th>enabled</th>
    <th>channels</th><th>match</th><th>tenant</th><th class="adm"></th></tr>${rules.map(row).join('')}</table>`;
}

async function load() {
  try {
    rules = (await api('/api/v1/rules')).rules;
  } catch (e) {
    list.innerHTML = `<p class="mut">${esc(e.status === 503 ? 'Alerting is not running in this Vigil.' : e.message)}</p>`;
    return;
  }
  draw();
}

async function change(call) {
  errorLine.textContent = '';
  try {
    rules = (await call()).rules;
    editing = null;
    draw();
    return true;
  } catch (e) {
    errorLine.textContent = e.message;
    return false;
  }
}

main.addEventListener('submit', async (e) => {
  if (e.target.id !== 'new-rule') return;
  e.preventDefault();
  const f = new FormData(e.target);
  let body;
  try {
    body = {
      metric: String(f.get('metric')).trim(),
      comparison: f.get('comparison'),
      threshold: Number(f.get('threshold')),
      severity: f.get('severity'),
      notification_channels: channelsOf(f.get('notification_channels')),
      match: matchOf(f.get('match')),
    };
  } catch (err) {
    errorLine.textContent = err.message;
    return;
  }
  if (String(f.get('for')).trim()) body.for = String(f.get('for')).trim();
  const name = String(f.get('name')).trim();
  if (await change(() => api(`/api/v1/rules/${encodeURIComponent(name)}`, { method: 'PUT', body }))) e.target.reset();
});

main.addEventListener('click', async (e) => {
  const act = e.target.dataset?.act;
  if (!act) return;
  const tr = e.target.closest('tr');
  const name = tr?.dataset.rule;
  if (!name) return;
  const path = `/api/v1/rules/${encodeURIComponent(name)}`;
  if (act === 'edit') {
    editing = name;
    draw();
  } else if (act === 'cancel') {
    editing = null;
    draw();
  } else if (act === 'delete') {
    if (confirm(`Delete rule ${name}? Its alerts resolve on the next cycle.`))
      await change(() => api(path, { method: 'DELETE' }));
  } else if (act === 'save') {
    const value = (n) => tr.querySelector(`[name="${n}"]`);
    const body = {
      severity: value('severity').value,
      enabled: value('enabled').checked,
      notification_channels: channelsOf(value('notification_channels').value),
      for: value('for').value.trim() || null,
    };
    if (value('threshold')) body.threshold = Number(value('threshold').value);
    await change(() => api(path, { method: 'PATCH', body }));
  }
});

nav('rules').then((who) => {
  if (who && !who.rulesEditable) {
    document.body.dataset.rulesEditable = '0';
    document.getElementById('rules-note').textContent =
      'Read-only: Vigil was started without a YAML config file, so rules cannot be edited here.';
  } else if (who?.role === 'admin') {
    document.getElementById('new-rule').hidden = false;
  }
});
load().then(() => {
  document.body.dataset.ready = '1';
});
