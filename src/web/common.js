// Shared helpers for the Vigil dashboard pages (plain ES module, no build step).
const params = new URLSearchParams(location.search);
if (params.get('token')) {
  localStorage.setItem('vigil.token', params.get('token'));
  params.delete('token');
  history.replaceState(null, '', `${location.pathname}${params.size ? `?${params}` : ''}`);
}

export function token() {
  return localStorage.getItem('vigil.token') || '';
}

export async function api(path, opts = {}) {
  const headers = { ...(opts.headers || {}) };
  if (token()) headers.authorization = `Bearer ${token()}`;
  if (opts.body !== undefined) headers['content-type'] = 'application/json';
  const res = await fetch(path, {
    ...opts,
    headers,
    body: opts.body === undefined ? undefined : JSON.stringify(opts.body),
  });
  const body = res.headers.get('content-type')?.includes('json') ? await res.json() : await res.text();
  if (!res.ok) {
    const err = new Error(body?.error?.message || `HTTP ${res.status}`);
    err.status = res.status;
    if (res.status === 401) askToken(err.message);
    throw err;
  }
  return body;
}

function askToken(message) {
  const t = prompt(`${message}\nPaste a Vigil API token:`);
  if (t) {
    localStorage.setItem('vigil.token', t.trim());
    location.reload();
  }
}

/** Server-sent events; `onEvent(type, data)`. Reconnects by itself (EventSource does). */
export function live(onEvent) {
  const url = `/api/v1/events${token() ? `?access_token=${encodeURIComponent(token())}` : ''}`;
  const es = new EventSource(url);
  for (const type of ['vms', 'alert', 'hello']) es.addEventListener(type, (e) => onEvent(type, JSON.parse(e.data)));
  return es;
}

export function level(v) {
  if (v == null) return '';
  return v > 85 ? 'red' : v >= 70 ? 'yellow' : 'green';
}

export function mb(bytes) {
  return bytes == null ? '–' : (bytes / 1048576).toFixed(2);
}

export function pct(v) {
  return v == null ? '–' : `${v.toFixed(1)}%`;
}

export function esc(s) {
  return String(s ?? '').replace(
    /[&<>"']/g,
    (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c],
  );
}

export function ago(ts, now = Date.now()) {
  if (!ts) return '–';
  const s = Math.max(0, Math.round((now - ts) / 1000));
  return s < 60 ? `${s}s ago` : s < 3600 ? `${Math.round(s / 60)}m ago` : `${Math.round(s / 3600)}h ago`;
}

/** Duration in ms as the config writes it: `0s`, `90s`, `5m`, `2h`, `7d`. */
export function dur(ms) {
  if (ms == null) return '';
  for (const [unit, size] of [
    ['d', 86_400_000],
    ['h', 3_600_000],
    ['m', 60_000],
    ['s', 1000],
  ])
    if (ms >= size && ms % size === 0) return `${ms / size}${unit}`;
  return ms === 0 ? '0s' : `${ms}ms`;
}

/** `name op value` of a label matcher. */
export function matcherText(m) {
  return `${m.name}${m.op}${m.value}`;
}

/** Creates a silence from a `new-silence` form (matchers comma-separated, duration, reason). */
export async function createSilence(form) {
  const f = new FormData(form);
  const matchers = String(f.get('matchers'))
    .split(',')
    .map((m) => m.trim())
    .filter(Boolean);
  await api('/api/v1/silences', {
    method: 'POST',
    body: { matchers, duration: String(f.get('duration')).trim(), reason: f.get('reason') },
  });
  form.reset();
}

const PAGES = [
  ['fleet', '/', 'Fleet'],
  ['alerts', '/alerts', 'Alerts'],
  ['rules', '/rules', 'Rules'],
  ['silences', '/silences', 'Silences'],
];

/** Draws the navigation; resolves to the caller's identity (`/api/v1/whoami`) or null. */
export function nav(active) {
  const el = document.querySelector('nav');
  if (!el) return Promise.resolve(null);
  el.innerHTML = `<b>Vigil</b> ${PAGES.map(([k, href, label]) => `<a href="${href}" ${active === k ? 'class="on"' : ''}>${label}</a>`).join(' ')} <span id="who"></span>`;
  return api('/api/v1/whoami')
    .then((w) => {
      document.getElementById('who').textContent = `${w.name} · ${w.role} · ${w.tenant}`;
      document.body.dataset.role = w.role;
      return w;
    })
    .catch(() => null);
}
