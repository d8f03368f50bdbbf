// dsyncd web console: plain JavaScript, no framework, no build step.
//
// Every figure comes from the admin API with the operator's token, sent as a
// bearer token; the token is kept in sessionStorage (this tab only, gone when
// it closes), never in a cookie.  The DOM is built with createElement and
// textContent only: a name from the API (a child's name may hold any byte)
// is always text, never markup.  Every list asks the API for one page.

const TOKEN_KEY = 'dsyncd-token';
const PAGE = 50;

const state = { token: null, role: null, name: null, gen: 0 };

// ---- DOM helpers -----------------------------------------------------------

// el('td', {class: 'n'}, 'text', child...): attributes as properties or
// attributes; strings become text nodes.
function el(tag, attrs, ...kids) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === null || v === undefined || v === false) continue;
    if (k === 'class') e.className = v;
    else if (k === 'onclick') e.addEventListener('click', v);
    else if (k === 'onsubmit') e.addEventListener('submit', v);
    else e.setAttribute(k, v === true ? '' : String(v));
  }
  for (const c of kids) add(e, c);
  return e;
}

function add(parent, c) {
  if (c === null || c === undefined || c === false) return;
  if (Array.isArray(c)) c.forEach((x) => add(parent, x));
  else if (c instanceof Node) parent.appendChild(c);
  else parent.appendChild(document.createTextNode(String(c)));
}

function clear(e) {
  while (e.firstChild) e.removeChild(e.firstChild);
}

const main = () => document.getElementById('main');

function say(text, bad) {
  const m = document.getElementById('msg');
  clear(m);
  m.hidden = !text;
  m.className = bad ? 'bad' : 'good';
  if (text) m.appendChild(document.createTextNode(text));
}

function time(t) {
  if (t === null || t === undefined) return '';
  return new Date(t * 1000).toISOString().replace('T', ' ').slice(0, 19) + 'Z';
}

function age(s) {
  if (s === null || s === undefined) return '';
  if (s < 120) return s + ' s';
  if (s < 7200) return Math.floor(s / 60) + ' min';
  if (s < 172800) return Math.floor(s / 3600) + ' h';
  return Math.floor(s / 86400) + ' d';
}

function childLink(name) {
  if (name === null || name === undefined) return '';
  return el('a', { href: '#/child/' + encodeURIComponent(name), class: 'name' }, name);
}

function table(cls, heads, rows) {
  return el('table', { class: cls },
    el('thead', null, el('tr', null, heads.map((h) => el('th', null, h)))),
    el('tbody', null, rows));
}

function section(title, ...kids) {
  return el('section', null, el('h2', null, title), kids);
}

// A hash link with query parameters (empty ones left out).
function hashLink(path, params) {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v !== '' && v !== null && v !== undefined) q.set(k, v);
  const s = q.toString();
  return '#' + path + (s ? '?' + s : '');
}

// "Next page" (and "First page") links for a page with cursor next.
function pager(path, params, next) {
  const links = [];
  if (params.after) links.push(el('a', { href: hashLink(path, { ...params, after: '' }), class: 'first' }, 'First page'));
  if (next !== null && next !== undefined)
    links.push(el('a', { href: hashLink(path, { ...params, after: String(next) }), class: 'next' }, 'Next page'));
  return el('p', { class: 'pager' }, links.length ? links : 'No more rows.');
}

// ---- the API ---------------------------------------------------------------

class ApiError extends Error {
  constructor(status, text) {
    super(text);
    this.status = status;
  }
}

async function api(method, path, body) {
  const headers = { Authorization: 'Bearer ' + state.token, Accept: 'application/json' };
  const opt = { method, headers, cache: 'no-store', credentials: 'omit', redirect: 'error' };
  if (body !== undefined) {
    headers['Content-Type'] = 'application/json';
    opt.body = JSON.stringify(body);
  }
  const r = await fetch(path, opt);
  const text = await r.text();
  if (r.status === 401) {
    logout('The token was refused; log in again.');
    throw new ApiError(401, 'unauthorized');
  }
  let data = null;
  if ((r.headers.get('Content-Type') || '').startsWith('application/json') && text) data = JSON.parse(text);
  if (!r.ok) throw new ApiError(r.status, (data && data.error) || r.status + ' ' + r.statusText);
  return data !== null ? data : text;
}

const enc = encodeURIComponent;

// The Prometheus text of /metrics as {name or name{labels}: value}.
function metrics(text) {
  const m = {};
  for (const line of text.split('\n')) {
    if (!line || line[0] === '#') continue;
    const i = line.lastIndexOf(' ');
    m[line.slice(0, i)] = Number(line.slice(i + 1));
  }
  return m;
}

// ---- log in and out ----------------------------------------------------------

async function login(token) {
  state.token = token;
  const who = await api('GET', '/api/v1/whoami');
  state.role = who.role;
  state.name = who.token;
  sessionStorage.setItem(TOKEN_KEY, token);
  document.getElementById('nav').hidden = false;
  document.getElementById('logout').hidden = false;
  const w = document.getElementById('who');
  clear(w);
  add(w, ['token ', el('b', null, who.token), ' (' + who.role + ')']);
}

function logout(why) {
  sessionStorage.removeItem(TOKEN_KEY);
  state.token = state.role = state.name = null;
  document.getElementById('nav').hidden = true;
  document.getElementById('logout').hidden = true;
  clear(document.getElementById('who'));
  showLogin(why);
}

function showLogin(why) {
  state.gen++;
  const input = el('input', { type: 'password', id: 'token', name: 'token', autocomplete: 'off', required: true, size: 40 });
  const form = el('form', { id: 'login', onsubmit: async (ev) => {
    ev.preventDefault();
    try {
      await login(input.value.trim());
      say('');
      route();
    } catch (e) {
      if (e.status !== 401) say('Cannot log in: ' + e.message, true);
    }
  } },
  el('h2', null, 'Log in'),
  el('p', null, 'An API token from dsyncd\'s tokens file. It is kept for this tab only.'),
  el('label', { for: 'token' }, 'Token '), input, ' ', el('button', { type: 'submit' }, 'Log in'));
  const m = main();
  clear(m);
  m.appendChild(form);
  say(why || '', Boolean(why));
  input.focus();
}

const isAdmin = () => state.role === 'admin';

// ---- key actions ---------------------------------------------------------------

// Trust and revoke buttons (admin tokens only): a click asks for a reason
// and a confirmation in place, then POSTs and calls done().
function keyActions(key, done) {
  if (!isAdmin()) return '';
  const box = el('span', { class: 'actions' });
  const ask = (verb) => {
    clear(box);
    const reason = el('input', { type: 'text', placeholder: 'reason (optional)', class: 'reason', size: 18 });
    add(box, [reason, ' ',
      el('button', { type: 'button', class: 'confirm ' + verb, onclick: async () => {
        try {
          const body = reason.value.trim() ? { reason: reason.value.trim() } : {};
          const k = await api('POST', '/api/v1/keys/' + enc(key.id) + '/' + verb, body);
          say('Key ' + k.name + ' is now ' + k.state + '.');
          done();
        } catch (e) {
          say('The ' + verb + ' of key ' + key.name + ' failed: ' + e.message, true);
        }
      } }, 'Confirm ' + verb), ' ',
      el('button', { type: 'button', class: 'cancel', onclick: () => { clear(box); add(box, buttons()); } }, 'Cancel')]);
    reason.focus();
  };
  const buttons = () => {
    const b = [];
    if (key.state !== 'trusted' && key.state !== 'revoked')
      b.push(el('button', { type: 'button', class: 'trust', onclick: () => ask('trust') }, 'Trust'));
    if (key.state !== 'revoked')
      b.push(el('button', { type: 'button', class: 'revoke', onclick: () => ask('revoke') }, 'Revoke'));
    return b;
  };
  add(box, buttons());
  return box;
}

// ---- pages ---------------------------------------------------------------------

async function pageOverview(gen) {
  const [zones, metricsText, backends, pending, stats] = await Promise.all([
    api('GET', '/api/v1/zones'),
    api('GET', '/metrics'),
    api('GET', '/api/v1/backends'),
    api('GET', '/api/v1/pending?limit=5'),
    api('GET', '/api/v1/stats/updates?minutes=60'),
  ]);
  if (gen !== state.gen) return;
  const m = metrics(metricsText);
  const states = ['trusted', 'known', 'validating', 'validation-failed', 'revoked'];
  const zoneRows = zones.items.map((z) =>
    el('tr', { 'data-zone': z.name },
      el('td', null, el('a', { href: '#/zone/' + enc(z.name), class: 'name' }, z.name)),
      el('td', { class: 'n', 'data-k': 'children' }, z.children),
      el('td', null, z.backends.join(', ')),
      el('td', null, z.bootstrap_methods.join(', '))));
  const keyRows = states.map((s) =>
    el('tr', null, el('td', null, s), el('td', { class: 'n', 'data-k': 'keys-' + s }, m['dsyncd_keys{state="' + s + '"}'] || 0)));
  // the queue's keys: known (manual) and validation-failed
  const waiting = (m['dsyncd_keys{state="known"}'] || 0) + (m['dsyncd_keys{state="validation-failed"}'] || 0);
  const backendRows = backends.items.map((b) =>
    el('tr', { class: b.pending > 0 ? 'lag' : '' },
      el('td', null, b.zone), el('td', null, b.backend + ' (' + b.type + ')'),
      el('td', { class: 'n', 'data-k': 'pending' }, b.pending),
      el('td', { class: 'n', 'data-k': 'lag' }, b.pending > 0 ? age(b.oldest_age) : '0 s'),
      el('td', null, time(b.last_success_time)),
      el('td', { class: 'err' }, b.last_error || '')));
  const c = main();
  clear(c);
  add(c, [
    el('h1', null, 'Overview'),
    el('div', { class: 'cards' },
      section('Zones', table('zones', ['zone', 'children', 'backends', 'bootstrap'], zoneRows)),
      section('Keys by state', table('keys', ['state', 'keys'], keyRows)),
      section('Waiting for the operator',
        el('p', { class: 'big' }, el('a', { href: '#/pending', id: 'waiting' }, String(waiting)), ' key(s)'),
        pending.items.length ? el('ul', null, pending.items.map((k) =>
          el('li', null, childLink(k.child), ' tag ' + k.tag + ', waiting ' + age(k.age)))) : '')),
    section('Delivery per backend', table('backends', ['zone', 'backend', 'pending', 'lag', 'last success', 'last error'], backendRows)),
    section('UPDATEs per minute, last hour', chart(stats.items)),
  ]);
}

// Accepted and refused UPDATEs per minute as an SVG bar chart (two bars a minute).
function chart(items) {
  const NS = 'http://www.w3.org/2000/svg';
  const W = 720, H = 160, pad = 24;
  const max = Math.max(1, ...items.map((i) => Math.max(i.accepted, i.refused)));
  const svg = document.createElementNS(NS, 'svg');
  svg.setAttribute('viewBox', `0 0 ${W} ${H + pad}`);
  svg.setAttribute('class', 'chart');
  svg.setAttribute('role', 'img');
  const bw = (W - pad) / Math.max(1, items.length);
  const rect = (x, h, cls, title) => {
    const r = document.createElementNS(NS, 'rect');
    r.setAttribute('x', x.toFixed(1));
    r.setAttribute('y', (H - h).toFixed(1));
    r.setAttribute('width', Math.max(1, bw / 2 - 1).toFixed(1));
    r.setAttribute('height', h.toFixed(1));
    r.setAttribute('class', cls);
    const t = document.createElementNS(NS, 'title');
    t.textContent = title;
    r.appendChild(t);
    svg.appendChild(r);
  };
  const text = (x, y, s, cls) => {
    const t = document.createElementNS(NS, 'text');
    t.setAttribute('x', x);
    t.setAttribute('y', y);
    if (cls) t.setAttribute('class', cls);
    t.textContent = s;
    svg.appendChild(t);
  };
  items.forEach((i, n) => {
    const x = pad + n * bw;
    const when = time(i.time).slice(11, 16);
    if (i.accepted) rect(x, (i.accepted / max) * (H - 10), 'acc', when + ': ' + i.accepted + ' accepted');
    if (i.refused) rect(x + bw / 2, (i.refused / max) * (H - 10), 'ref', when + ': ' + i.refused + ' refused');
    if (n % 10 === 0) text(x, H + 16, when, 'axis');
  });
  text(0, 12, String(max), 'axis');
  text(0, H, '0', 'axis');
  const sum = (k) => items.reduce((a, i) => a + i[k], 0);
  return el('figure', null, svg,
    el('figcaption', null,
      el('span', { class: 'key acc' }, 'accepted'), ' ', el('b', { id: 'accepted' }, sum('accepted')), '  ',
      el('span', { class: 'key ref' }, 'refused'), ' ', el('b', { id: 'refused' }, sum('refused')),
      ' in the last ' + items.length + ' minutes (UTC)'));
}

async function pagePending(gen, params) {
  const q = new URLSearchParams({ limit: PAGE });
  if (params.after) q.set('after', params.after);
  const p = await api('GET', '/api/v1/pending?' + q);
  if (gen !== state.gen) return;
  const rows = p.items.map((k) =>
    el('tr', { 'data-key': k.id },
      el('td', { class: 'name' }, k.key), el('td', null, childLink(k.child)), el('td', null, k.zone),
      el('td', { class: 'state' }, k.state), el('td', null, age(k.age)),
      el('td', null, k.methods.join(', ')), el('td', { class: 'n' }, k.attempts),
      el('td', null, k.last_result || ''),
      el('td', null, keyActions(k, () => route()))));
  const c = main();
  clear(c);
  add(c, [el('h1', null, 'Keys waiting for the operator'),
    el('p', null, 'Longest waiting first.' + (isAdmin() ? '' : ' This token may only read: no trust or revoke.')),
    rows.length ? table('pending', ['key', 'child', 'zone', 'state', 'waiting', 'methods', 'attempts', 'last result', ''], rows)
      : el('p', { class: 'empty' }, 'No key waits for the operator.'),
    pager('/pending', params, p.next)]);
}

async function pageZone(gen, zone, params) {
  const q = new URLSearchParams({ limit: PAGE });
  if (params.after) q.set('after', params.after);
  const p = await api('GET', '/api/v1/zones/' + enc(zone) + '/children?' + q);
  if (gen !== state.gen) return;
  const rows = p.items.map((ch) =>
    el('tr', null, el('td', null, childLink(ch.name)), el('td', null, ch.ns.join(' ')),
      el('td', { class: 'n' }, ch.ds), el('td', { class: 'n' }, ch.glue),
      el('td', { class: 'n' }, ch.keys.trusted), el('td', { class: 'n' }, ch.keys.validating),
      el('td', { class: 'n' }, ch.keys.pending)));
  const c = main();
  clear(c);
  add(c, [el('h1', null, 'Children of ', el('span', { class: 'name' }, zone)),
    table('children', ['child', 'NS', 'DS', 'glue', 'trusted', 'validating', 'waiting'], rows),
    pager('/zone/' + enc(zone), params, p.next)]);
}

async function pageChild(gen, name) {
  const [ch, hist] = await Promise.all([
    api('GET', '/api/v1/children/' + enc(name)),
    api('GET', '/api/v1/audit?' + new URLSearchParams({ child: name, limit: 20 })),
  ]);
  if (gen !== state.gen) return;
  const keyRows = ch.keys.map((k) =>
    el('tr', { 'data-key': k.id },
      el('td', { class: 'name' }, k.name), el('td', { class: 'n' }, k.tag), el('td', { class: 'n' }, k.algorithm),
      el('td', { class: 'state' }, k.state), el('td', null, k.trust_method || ''), el('td', null, k.source),
      el('td', null, time(k.updated)),
      el('td', null, keyActions(k, () => route()))));
  const c = main();
  clear(c);
  add(c, [el('h1', null, 'Child ', el('span', { class: 'name', id: 'child-name' }, ch.name)),
    el('p', null, 'Zone ', el('a', { href: '#/zone/' + enc(ch.zone), class: 'name' }, ch.zone)),
    section('Delegation', ch.delegation.length ? el('pre', { class: 'records' }, ch.delegation.join('\n'))
      : el('p', { class: 'empty' }, 'No records.')),
    section('Keys', ch.keys.length ? table('keys', ['key', 'tag', 'algorithm', 'state', 'trusted by', 'source', 'updated', ''], keyRows)
      : el('p', { class: 'empty' }, 'No keys.')),
    section('History', auditTable(hist.items),
      hist.next !== null ? el('p', null, el('a', { href: hashLink('/audit', { child: ch.name }) }, 'All of its history')) : '')]);
}

function auditTable(items) {
  return table('audit', ['id', 'time', 'actor', 'client', 'child', 'request', 'result', 'reason'],
    items.map((r) => el('tr', { 'data-id': r.id },
      el('td', { class: 'n' }, r.id), el('td', null, time(r.time)), el('td', null, r.actor || ''),
      el('td', null, r.client || ''), el('td', null, childLink(r.child)), el('td', null, r.request || ''),
      el('td', { class: 'result' }, r.result || ''), el('td', { class: 'reason' }, r.reason || ''))));
}

// datetime-local value (read as UTC) <-> seconds
const toSecs = (v) => (v ? String(Math.floor(Date.parse(v + 'Z') / 1000)) : '');
const fromSecs = (s) => (s ? new Date(Number(s) * 1000).toISOString().slice(0, 16) : '');

// rows per page: the page's "limit" parameter (1 to 1000), else PAGE
function limitOf(params) {
  const n = Number(params.limit);
  return Number.isInteger(n) && n >= 1 && n <= 1000 ? n : PAGE;
}

async function pageAudit(gen, params) {
  const q = new URLSearchParams({ limit: limitOf(params) });
  for (const k of ['child', 'result', 'since', 'until', 'after']) if (params[k]) q.set(k, params[k]);
  const p = await api('GET', '/api/v1/audit?' + q);
  if (gen !== state.gen) return;
  const f = {
    child: el('input', { type: 'text', id: 'f-child', value: params.child || '', size: 24 }),
    result: el('input', { type: 'text', id: 'f-result', value: params.result || '', size: 12 }),
    since: el('input', { type: 'datetime-local', id: 'f-since', value: fromSecs(params.since) }),
    until: el('input', { type: 'datetime-local', id: 'f-until', value: fromSecs(params.until) }),
  };
  const form = el('form', { class: 'filters', id: 'audit-filter', onsubmit: (ev) => {
    ev.preventDefault();
    location.hash = hashLink('/audit', { child: f.child.value.trim(), result: f.result.value.trim(),
      since: toSecs(f.since.value), until: toSecs(f.until.value), limit: params.limit });
  } },
  el('label', null, 'child ', f.child), ' ', el('label', null, 'result ', f.result), ' ',
  el('label', null, 'since (UTC) ', f.since), ' ', el('label', null, 'until (UTC) ', f.until), ' ',
  el('button', { type: 'submit' }, 'Filter'), ' ', el('a', { href: '#/audit' }, 'Clear'));
  const c = main();
  clear(c);
  add(c, [el('h1', null, 'Audit log'), form, auditTable(p.items), pager('/audit', params, p.next)]);
}

async function pageDeliveries(gen, params) {
  const st = params.state || 'pending';
  const q = new URLSearchParams({ limit: PAGE, state: st });
  if (params.after) q.set('after', params.after);
  const p = await api('GET', '/api/v1/outbox?' + q);
  if (gen !== state.gen) return;
  const retry = (d) => {
    if (!isAdmin() || d.state !== 'pending') return '';
    return el('button', { type: 'button', class: 'retry', onclick: async () => {
      try {
        await api('POST', '/api/v1/outbox/' + enc(d.id) + '/retry', {});
        say('Delivery ' + d.id + ' is retried now.');
        route();
      } catch (e) {
        say('The retry of delivery ' + d.id + ' failed: ' + e.message, true);
      }
    } }, 'Retry now');
  };
  const rows = p.items.map((d) =>
    el('tr', { 'data-id': d.id },
      el('td', { class: 'n' }, d.id), el('td', null, d.zone || ''), el('td', null, childLink(d.child)),
      el('td', null, d.backend || ''), el('td', { class: 'state' }, d.state || ''), el('td', { class: 'n' }, d.attempts),
      el('td', null, time(d.next_attempt)), el('td', { class: 'err' }, d.last_error || ''),
      el('td', null, time(d.created)), el('td', null, time(d.delivered_time)), el('td', null, retry(d))));
  const tabs = ['pending', 'done', 'all'].map((s) =>
    el('a', { href: hashLink('/deliveries', { state: s }), class: s === st ? 'on' : '' }, s));
  const c = main();
  clear(c);
  add(c, [el('h1', null, 'Deliveries'), el('p', { class: 'tabs' }, tabs),
    table('deliveries', ['id', 'zone', 'child', 'backend', 'state', 'attempts', 'next attempt', 'last error', 'created', 'delivered', ''], rows),
    pager('/deliveries', { ...params, state: st }, p.next)]);
}

// ---- routing -------------------------------------------------------------------

async function route() {
  if (!state.token) return showLogin();
  const gen = ++state.gen;
  const h = location.hash.replace(/^#/, '') || '/';
  const qi = h.indexOf('?');
  const path = qi < 0 ? h : h.slice(0, qi);
  const params = Object.fromEntries(new URLSearchParams(qi < 0 ? '' : h.slice(qi + 1)));
  try {
    if (path === '/' || path === '/overview') await pageOverview(gen);
    else if (path === '/pending') await pagePending(gen, params);
    else if (path === '/audit') await pageAudit(gen, params);
    else if (path === '/deliveries') await pageDeliveries(gen, params);
    else if (path.startsWith('/child/')) await pageChild(gen, decodeURIComponent(path.slice(7)));
    else if (path.startsWith('/zone/')) await pageZone(gen, decodeURIComponent(path.slice(6)), params);
    else {
      const c = main();
      clear(c);
      add(c, el('p', null, 'No such page.'));
    }
    // tests wait for this: the page is drawn
    if (gen === state.gen) document.body.setAttribute('data-drawn', String(gen));
  } catch (e) {
    if (gen === state.gen && e.status !== 401) say(e.message, true);
  }
}

async function start() {
  document.getElementById('logout').addEventListener('click', () => logout());
  window.addEventListener('hashchange', () => {
    say('');
    route();
  });
  const t = sessionStorage.getItem(TOKEN_KEY);
  if (t) {
    try {
      await login(t);
    } catch (e) {
      if (e.status !== 401) say('Cannot reach dsyncd: ' + e.message, true);
      return;
    }
  }
  route();
}

start();
