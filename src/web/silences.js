// Silences page: active (and scheduled) silences and expired ones; operators and admins add and expire them.
import { ago, api, createSilence, esc, live, matcherText, nav } from './common.js';

const main = document.getElementById('main');
// The form is built once: re-rendering the lists never wipes what an operator is typing.
main.innerHTML = `<h2>Silences</h2>
  <form id="new-silence" class="bar op">
    <input name="matchers" placeholder="vm=web-01, resource_group=rg-a, rule=high_cpu" size="40" required>
    <input name="duration" value="2h" size="5" title="how long, e.g. 30m, 2h, 1d">
    <input name="reason" placeholder="reason" size="28">
    <button type="submit">Add silence</button>
  </form>
  <p id="silence-error" class="err-msg"></p>
  <div id="lists"></div>`;
const lists = document.getElementById('lists');
const errorLine = document.getElementById('silence-error');

const when = (ts) => new Date(ts).toISOString().replace(/\.\d{3}Z$/, 'Z');

async function render() {
  let silences;
  try {
    silences = (await api('/api/v1/silences?all=true')).silences;
  } catch (e) {
    lists.innerHTML = `<p class="mut">${esc(e.status === 503 ? 'Alerting is not running in this Vigil.' : e.message)}</p>`;
    return;
  }
  const now = Date.now();
  const ended = (s) => s.endsAt <= now || (s.expiredAt !== null && s.expiredAt <= now);
  const active = silences.filter((s) => !ended(s)).sort((a, b) => a.endsAt - b.endsAt);
  const expired = silences.filter(ended).sort((a, b) => (b.expiredAt ?? b.endsAt) - (a.expiredAt ?? a.endsAt));
  const line = (s, isActive) =>
    `<tr data-silence="${esc(s.id)}"><td>${esc(s.matchers.map(matcherText).join(', '))}</td>
      <td>${s.startsAt > now ? `from ${when(s.startsAt)}` : when(s.startsAt)}</td>
      <td>${isActive ? `${when(s.endsAt)}` : s.expiredAt !== null ? `expired ${ago(s.expiredAt, now)}` : `ended ${ago(s.endsAt, now)}`}</td>
      <td>${esc(s.createdBy)}</td><td>${esc(s.reason)}</td>
      <td>${isActive && !s.id.startsWith('config-') ? `<button class="op" data-expire="${esc(s.id)}">Expire</button>` : s.id.startsWith('config-') ? '<span class="mut">config file</span>' : ''}</td></tr>`;
  const head = (last) => `<tr><th>matchers</th><th>starts</th><th>${last}</th><th>by</th><th>reason</th><th></th></tr>`;
  lists.innerHTML = `<h3 id="active-title">Active (${active.length})</h3>
    ${active.length === 0 ? '<p class="mut">No active silences.</p>' : `<table id="active">${head('ends')}${active.map((s) => line(s, true)).join('')}</table>`}
    <h3 id="expired-title">Expired (${expired.length})</h3>
    ${expired.length === 0 ? '<p class="mut">None.</p>' : `<table id="expired">${head('ended')}${expired.map((s) => line(s, false)).join('')}</table>`}`;
}

main.addEventListener('submit', async (e) => {
  if (e.target.id !== 'new-silence') return;
  e.preventDefault();
  errorLine.textContent = '';
  try {
    await createSilence(e.target);
    await render();
  } catch (err) {
    errorLine.textContent = err.message;
  }
});

main.addEventListener('click', async (e) => {
  const id = e.target.dataset?.expire;
  if (!id) return;
  errorLine.textContent = '';
  try {
    await api(`/api/v1/silences/${encodeURIComponent(id)}`, { method: 'DELETE' });
    await render();
  } catch (err) {
    errorLine.textContent = err.message;
  }
});

nav('silences');
render().then(() => {
  document.body.dataset.ready = '1';
});
// Silenced alerts change status as silences start and end: refresh with alert transitions and once a minute.
let timer = null;
live((type) => {
  if (type !== 'alert') return;
  clearTimeout(timer);
  timer = setTimeout(render, 500);
});
setInterval(render, 60_000);
