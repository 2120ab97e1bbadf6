// The fleet dashboard: reads the admin API with the session cookie, changes
// rollouts with POSTs that carry the session's CSRF token. Everything shown is
// put in as text (textContent, createTextNode), never as markup: device ids,
// errors, reasons and versions come from devices and operators.
'use strict';

const REFRESH_MS = 4000;
const SVGNS = 'http://www.w3.org/2000/svg';
let csrf = null;
const reasons = new Map(); // rollout id -> what is typed in its reason field

const $ = (id) => document.getElementById(id);

// el('td', {class: 'num'}, 'text', child...): attributes and children, text as text.
function el(tag, attrs, ...children) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (k === 'class') e.className = v;
    else e.setAttribute(k, String(v));
  }
  for (const c of children) {
    if (c === null || c === undefined) continue;
    e.appendChild(typeof c === 'object' ? c : document.createTextNode(String(c)));
  }
  return e;
}

function svg(tag, attrs, text) {
  const e = document.createElementNS(SVGNS, tag);
  for (const [k, v] of Object.entries(attrs || {})) e.setAttribute(k, String(v));
  if (text !== undefined) e.textContent = String(text);
  return e;
}

function ago(iso) {
  if (!iso) return 'never';
  const s = Math.max(0, Math.round((Date.now() - Date.parse(iso)) / 1000));
  if (s < 60) return s + ' s ago';
  if (s < 3600) return Math.round(s / 60) + ' min ago';
  if (s < 86400) return Math.round(s / 3600) + ' h ago';
  return Math.round(s / 86400) + ' d ago';
}

function problem(text) {
  const p = $('problem');
  p.textContent = text || '';
  p.hidden = !text;
}

async function getJSON(path) {
  const r = await fetch(path, { credentials: 'same-origin', cache: 'no-store' });
  if (r.status === 401) {
    location.assign('/dashboard/login');
    throw new Error('logged out');
  }
  const j = await r.json();
  if (!r.ok) throw new Error(path + ': ' + r.status + ': ' + (j.error || ''));
  return j;
}

async function post(path, body) {
  const r = await fetch(path, {
    method: 'POST',
    credentials: 'same-origin',
    headers: { 'Content-Type': 'application/json', 'X-CSRF-Token': csrf },
    body: JSON.stringify(body || {}),
  });
  let j = {};
  try { j = await r.json(); } catch (e) { /* 204 and friends */ }
  if (!r.ok) throw new Error(r.status + ': ' + (j.error || r.statusText));
  return j;
}

function replaceRows(tbody, rows) {
  tbody.replaceChildren(...rows);
}

function barCell(n, max) {
  const bar = el('div', { class: 'hbar' });
  bar.style.width = (max ? Math.round((100 * n) / max) : 0) + '%';
  return el('td', { class: 'barcol' }, bar);
}

function renderGlance(s) {
  $('devices-total').textContent = s.devices;
  $('failing-total').textContent = s.failing_total;
  $('newest').textContent = ago(s.newest_check_in);
  $('newest').title = s.newest_check_in || '';
  const vmax = Math.max(0, ...s.by_version.map((v) => v.devices));
  replaceRows($('by-version').tBodies[0], s.by_version.map((v) =>
    el('tr', {}, el('td', {}, v.product), el('td', {}, v.version),
       el('td', { class: 'num' }, v.devices), barCell(v.devices, vmax))));
  const smax = Math.max(0, ...s.by_state.map((v) => v.devices));
  replaceRows($('by-state').tBodies[0], s.by_state.map((v) =>
    el('tr', {}, el('td', {}, v.state), el('td', { class: 'num' }, v.devices),
       barCell(v.devices, smax))));
  const lmax = Math.max(0, ...s.last_seen.map((v) => v.devices));
  replaceRows($('by-seen').tBodies[0], s.last_seen.map((v) =>
    el('tr', {}, el('td', {}, v.within), el('td', { class: 'num' }, v.devices),
       barCell(v.devices, lmax))));
}

function renderFailing(s) {
  if (!s.failing.length) {
    replaceRows($('failing').tBodies[0], [el('tr', {}, el('td', { class: 'muted', colspan: 8 },
      'None: no device reports a failed or rolled-back update.'))]);
    $('failing-more').textContent = '';
    return;
  }
  replaceRows($('failing').tBodies[0], s.failing.map((d) =>
    el('tr', { class: 'device' },
       el('td', { class: 'device-id' }, d.id),
       el('td', {}, d.product),
       el('td', {}, d.running),
       el('td', {}, d.event),
       el('td', { class: 'error-text' }, d.error ? d.error_name + ' (' + d.error + ')' : '–'),
       el('td', {}, d.attempted_version || '–'),
       el('td', { title: d.last_seen || '' }, ago(d.last_seen)),
       el('td', { class: 'decision' }, d.decision))));
  $('failing-more').textContent = s.failing_total > s.failing.length
    ? (s.failing_total - s.failing.length) + ' more not shown' : '';
}

// One wave's bar: of the devices its buckets hold (cumulative), how many
// succeeded, failed, are in progress; the mark is the success criterion.
function waveRow(r, i, progress) {
  const w = r.waves[i];
  let ok = 0, bad = 0, wait = 0;
  for (let k = 0; k <= i && progress && k < progress.waves.length; k++) {
    ok += progress.waves[k].succeeded;
    bad += progress.waves[k].failed;
    wait += progress.waves[k].in_progress;
  }
  const opened = w.opened !== null;
  const total = Math.max(w.targeted || 0, ok + bad + wait, 1);
  const bar = el('div', { class: 'progress', role: 'progressbar',
                          'aria-valuemin': 0, 'aria-valuemax': total, 'aria-valuenow': ok });
  for (const [cls, n] of [['ok', ok], ['bad', bad], ['wait', wait]]) {
    const seg = el('div', { class: cls, title: cls });
    seg.style.width = (opened ? (100 * n) / total : 0) + '%';
    bar.appendChild(seg);
  }
  const mark = el('div', { class: 'mark', title: r.success_pct + '% to open the next wave' });
  mark.style.left = r.success_pct + '%';
  bar.appendChild(mark);
  const text = opened
    ? ok + ' ok, ' + bad + ' failed, ' + wait + ' in progress of ' + (w.targeted || 0)
    : 'not opened';
  return el('div', { class: 'wave' + (w.current ? ' current' : ''), 'data-wave': i + 1 },
            el('span', { class: 'label' }, 'wave ' + (i + 1) + ' · ' + w.size), bar,
            el('span', { class: 'muted wave-text' }, text));
}

function actionButton(r, action, label) {
  const b = el('button', { type: 'button', class: action }, label);
  b.addEventListener('click', async () => {
    if (action === 'abort' && !confirm('Abort rollout ' + r.id + '? No device will be offered ' +
                                       r.version + ' any more. This is final.'))
      return;
    const reason = (reasons.get(r.id) || '').trim();
    b.disabled = true;
    try {
      const j = await post('/api/v1/rollouts/' + r.id + '/' + action, reason ? { reason } : {});
      reasons.delete(r.id);
      $('action-result').textContent = 'rollout ' + r.id + ': ' + j.state + ' (' + j.reason + ')';
      problem('');
    } catch (e) {
      problem('rollout ' + r.id + ' ' + action + ': ' + e.message);
    }
    await refresh();
  });
  return b;
}

function renderRollouts(list, summary) {
  const box = $('rollouts');
  const active = document.activeElement;
  if (active && active.classList.contains('reason-input') && box.contains(active))
    return; // someone is typing a reason: not now
  const progress = new Map(summary.rollout_waves.map((p) => [p.id, p]));
  if (!list.length) {
    box.replaceChildren(el('p', { class: 'muted' }, 'No rollouts yet (fota fleet rollouts create).'));
    return;
  }
  box.replaceChildren(...list.map((r) => {
    const card = el('article', { class: 'rollout', id: 'rollout-' + r.id, 'data-state': r.state },
      el('h3', {}, 'rollout ' + r.id + ': ' + r.product + ' ' + r.version + ' → channel ' +
         r.channel + (r.groups ? ' (groups ' + r.groups + ')' : '') + ' ',
         el('span', { class: 'state state-' + r.state }, r.state)),
      el('p', { class: 'reason' }, r.reason || ''),
      el('p', { class: 'muted' }, r.devices.succeeded + ' succeeded, ' + r.devices.failed +
         ' failed or rolled back, ' + r.devices.offered + ' in progress · next wave at ' +
         r.success_pct + '% success · pause above ' + r.failure_pct + '% failures (minimum ' +
         r.min_sample + ')'));
    r.waves.forEach((w, i) => card.appendChild(waveRow(r, i, progress.get(r.id))));
    if (r.state === 'running' || r.state === 'paused') {
      const input = el('input', { type: 'text', class: 'reason-input', maxlength: 200,
                                  placeholder: 'reason (optional)', 'aria-label': 'reason' });
      input.value = reasons.get(r.id) || '';
      input.addEventListener('input', () => reasons.set(r.id, input.value));
      const actions = el('div', { class: 'actions' });
      if (r.state === 'running') actions.appendChild(actionButton(r, 'pause', 'Pause'));
      if (r.state === 'paused') actions.appendChild(actionButton(r, 'resume', 'Resume'));
      actions.appendChild(actionButton(r, 'abort', 'Abort'));
      actions.appendChild(input);
      card.appendChild(actions);
    }
    return card;
  }));
}

// Devices per version over time: one line per version, SVG built element by element.
function renderHistory(h) {
  const box = $('plot');
  if (!h.times_ms.length) {
    box.replaceChildren(el('p', { class: 'muted' }, 'No check-ins yet.'));
    return;
  }
  const W = 800, H = 240, L = 44, R = 10, T = 10, B = 28;
  const t0 = h.times_ms[0], t1 = h.times_ms[h.times_ms.length - 1];
  let ymax = 1;
  for (const s of h.series) ymax = Math.max(ymax, ...s.devices);
  const x = (t) => L + (t1 > t0 ? ((t - t0) * (W - L - R)) / (t1 - t0) : 0);
  const y = (n) => T + (H - T - B) * (1 - n / ymax);
  const root = svg('svg', { viewBox: '0 0 ' + W + ' ' + H, role: 'img',
                            'aria-label': 'devices per version over time' });
  for (let k = 0; k <= 4; k++) {
    const n = Math.round((ymax * k) / 4);
    root.appendChild(svg('line', { class: 'grid', x1: L, x2: W - R, y1: y(n), y2: y(n) }));
    root.appendChild(svg('text', { x: L - 6, y: y(n) + 4, 'text-anchor': 'end' }, n));
  }
  root.appendChild(svg('line', { class: 'axis', x1: L, x2: W - R, y1: H - B, y2: H - B }));
  for (let k = 0; k <= 4; k++) {
    const t = t0 + ((t1 - t0) * k) / 4;
    const label = new Date(t).toISOString().replace('T', ' ').slice(5, 19);
    root.appendChild(svg('text', { x: x(t), y: H - 8, 'text-anchor': k === 0 ? 'start' : k === 4 ? 'end' : 'middle' },
                         label));
  }
  const legend = el('div', { class: 'legend' });
  h.series.forEach((s, i) => {
    const pts = s.devices.map((n, k) => x(h.times_ms[k]).toFixed(1) + ',' + y(n).toFixed(1));
    const line = svg('polyline', { class: 'c' + (i % 8), points: pts.join(' ') });
    line.appendChild(svg('title', {}, s.product + ' ' + s.version));
    root.appendChild(line);
    legend.appendChild(el('span', {}, el('span', { class: 'swatch c' + (i % 8) }),
                          s.product + ' ' + s.version + ': ' + s.devices[s.devices.length - 1]));
  });
  box.replaceChildren(root, legend);
}

let refreshing = false;
async function refresh() {
  if (refreshing) return;
  refreshing = true;
  try {
    const [summary, rollouts, history] = await Promise.all([
      getJSON('/api/v1/summary'), getJSON('/api/v1/rollouts'),
      getJSON('/api/v1/history?points=80').catch((e) => ({ error: e.message })),
    ]);
    renderGlance(summary);
    renderFailing(summary);
    renderRollouts(rollouts.rollouts, summary);
    if (history.error) // a store without version history: the rest still works
      $('plot').replaceChildren(el('p', { class: 'muted' }, 'No plot: ' + history.error));
    else
      renderHistory(history);
    $('updated').textContent = 'updated ' + new Date().toLocaleTimeString();
    document.body.dataset.loaded = 'yes';
  } catch (e) {
    problem(e.message);
  } finally {
    refreshing = false;
  }
}

async function start() {
  $('logout').addEventListener('click', async () => {
    try { await post('/dashboard/logout'); } catch (e) { /* logged out either way */ }
    location.assign('/dashboard/login');
  });
  try {
    csrf = (await getJSON('/dashboard/session')).csrf;
  } catch (e) {
    problem(e.message);
    return;
  }
  await refresh();
  setInterval(refresh, REFRESH_MS);
}

start();
