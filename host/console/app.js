/* app.js - the Luồng console: plain JavaScript over the admin API.
 * Every text that comes from a document, a target or a user is put in the
 * page with textContent (el() below), never parsed as markup. */
'use strict';
(function () {
  const I = window.I18N;
  const S = { me: null, csrf: null, lang: localStorage.getItem('lang') || 'vi',
    timer: null, flows: [], plugins: null };

  /* ---- words, numbers and dates ---- */
  function t(key, vars) {
    let s = (I[S.lang] && I[S.lang][key]) || I.vi[key] || key;
    for (const k in vars || {}) s = s.split('{' + k + '}').join(String(vars[k]));
    return s;
  }
  function money(n) {
    const neg = n < 0;
    const s = String(Math.round(Math.abs(n))).replace(/\B(?=(\d{3})+(?!\d))/g, '.');
    return (neg ? '-' : '') + s + ' ₫';
  }
  function num(n) { return String(n).replace(/\B(?=(\d{3})+(?!\d))/g, '.'); }
  /* "2026-11-30T08:05:00.000+07:00" (Vietnam time) -> "30/11/2026 08:05" */
  function vnDate(iso, withTime) {
    if (!iso) return '';
    const m = /^(\d{4})-(\d{2})-(\d{2})(?:T(\d{2}):(\d{2}))?/.exec(iso);
    if (!m) return String(iso);
    const d = m[3] + '/' + m[2] + '/' + m[1];
    return withTime === false || !m[4] ? d : d + ' ' + m[4] + ':' + m[5];
  }
  /* "2026-11-30" <-> "30/11/2026" */
  function toVnDay(iso) {
    const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(iso || '');
    return m ? m[3] + '/' + m[2] + '/' + m[1] : '';
  }
  function fromVnDay(s) {
    const m = /^\s*(\d{1,2})\/(\d{1,2})\/(\d{4})\s*$/.exec(s);
    if (!m || +m[2] < 1 || +m[2] > 12 || +m[1] < 1 || +m[1] > 31) return null;
    return m[3] + '-' + m[2].padStart(2, '0') + '-' + m[1].padStart(2, '0');
  }
  function statusLabel(st) {
    return st === 'failed' ? t('failedSt') : t(st);
  }
  function word(dict, key) {
    const w = dict[key];
    return w ? w[S.lang === 'en' ? 1 : 0] : key;
  }

  /* ---- the page ---- */
  function el(tag, attrs, ...kids) {
    const e = document.createElement(tag);
    for (const k in attrs || {}) {
      const v = attrs[k];
      if (v === null || v === undefined || v === false) continue;
      if (k.startsWith('on')) e.addEventListener(k.slice(2), v);
      else if (k === 'class') e.className = v;
      else e.setAttribute(k, v === true ? '' : v);
    }
    for (const c of kids.flat(Infinity)) {
      if (c === null || c === undefined || c === false) continue;
      e.append(c instanceof Node ? c : document.createTextNode(String(c)));
    }
    return e;
  }
  const $ = (id) => document.getElementById(id);
  function show(...nodes) { $('main').replaceChildren(...nodes.flat(Infinity)); }
  /* The show() of the page the person went to last: a page whose data
   * comes back after they have gone on to another does not replace it.
   * Each page takes it first thing (const show = S.show). */
  function pageShow() {
    const gen = (S.gen = (S.gen || 0) + 1);
    return (...nodes) => { if (gen === S.gen) show(...nodes); };
  }
  function toast(msg) {
    const b = $('toast');
    b.textContent = msg;
    b.hidden = false;
    clearTimeout(toast.tm);
    toast.tm = setTimeout(() => { b.hidden = true; }, 5000);
  }
  function confirmBox(text) {
    return new Promise((resolve) => {
      const m = $('modal');
      const done = (v) => { m.hidden = true; m.replaceChildren(); resolve(v); };
      m.replaceChildren(el('div', { class: 'box', role: 'dialog' },
        el('p', null, text),
        el('div', { class: 'actions' },
          el('button', { type: 'button', id: 'confirm-no', onclick: () => done(false) }, t('cancel')),
          el('button', { type: 'button', class: 'primary', id: 'confirm-yes', onclick: () => done(true) }, t('confirm')))));
      m.hidden = false;
    });
  }
  const can = (role) => {
    const rank = { viewer: 1, operator: 2, admin: 3 };
    return S.me && rank[S.me.role] >= rank[role];
  };
  function safeUrl(u) {
    return typeof u === 'string' && /^https?:\/\//i.test(u) ? u : null;
  }

  /* ---- the API ---- */
  async function api(method, path, body) {
    const h = { Accept: 'application/json' };
    if (body !== undefined) h['Content-Type'] = 'application/json';
    if (S.csrf && method !== 'GET') h['X-CSRF-Token'] = S.csrf;
    const r = await fetch('/api' + path, { method, headers: h, credentials: 'same-origin',
      body: body === undefined ? undefined : JSON.stringify(body) });
    let data = null;
    try { data = await r.json(); } catch (e) { data = null; }
    if (r.status === 401 && path !== '/session') { signInPage(); throw new Error('signed out'); }
    if (!r.ok) {
      const err = new Error((data && data.error) || ('HTTP ' + r.status));
      err.status = r.status;
      err.data = data;
      throw err;
    }
    return data;
  }
  function fail(e) {
    if (e.message === 'signed out') return;
    toast(e.status === 403 ? t('forbidden') + ': ' + e.message : t('error') + ': ' + e.message);
  }
  const enc = encodeURIComponent;

  /* ---- sign-in ---- */
  function signInPage(msg) {
    stopTimer();
    S.me = null; S.csrf = null;
    $('top').hidden = true;
    const name = el('input', { id: 'name', autocomplete: 'username', required: true });
    const pw = el('input', { id: 'password', type: 'password', autocomplete: 'current-password', required: true });
    const err = el('div', { class: 'error', id: 'signin-error' }, msg || '');
    const form = el('form', { class: 'card signin', onsubmit: async (ev) => {
      ev.preventDefault();
      try {
        const me = await api('POST', '/session', { name: name.value, password: pw.value });
        S.me = me; S.csrf = me.csrf;
        start();
      } catch (e) { err.textContent = e.status === 401 ? t('wrongLogin') : e.message; }
    } },
    el('h1', null, 'Luồng — ' + t('signIn')),
    el('label', { for: 'name' }, t('userName')), name,
    el('label', { for: 'password' }, t('password')), pw, err,
    el('p', null, el('button', { class: 'primary', type: 'submit', id: 'signin' }, t('signIn'))),
    el('button', { type: 'button', class: 'link', onclick: switchLang }, t('lang')));
    show(form);
    name.focus();
  }
  async function signOut() {
    try { await api('DELETE', '/session'); } catch (e) { /* signed out anyway */ }
    signInPage();
  }
  function switchLang() {
    S.lang = S.lang === 'vi' ? 'en' : 'vi';
    localStorage.setItem('lang', S.lang);
    document.documentElement.lang = S.lang;
    if (S.me) { chrome(); route(); } else signInPage();
  }

  function chrome() {
    $('top').hidden = false;
    const links = [['#/', 'overview'], ['#/failed', 'failed'], ['#/mappings', 'mappings'], ['#/audit', 'audit']];
    if (can('admin')) links.push(['#/users', 'users']);
    const here = location.hash.split('?')[0] || '#/';
    $('nav').replaceChildren(...links.map(([h, k]) =>
      el('a', { href: h, class: here === h ? 'active' : null, id: 'nav-' + k }, t(k))));
    $('me').textContent = S.me.name + ' · ' + t(S.me.role);
    $('lang').textContent = t('lang');
    $('signout').textContent = t('signOut');
  }

  /* ---- live updates ---- */
  function stopTimer() { if (S.timer) clearInterval(S.timer); S.timer = null; }
  function every(fn) {
    stopTimer();
    S.timer = setInterval(() => { if (!$('modal').hidden) return; fn().catch(fail); }, 3000);
  }

  /* ---- overview ---- */
  function sentence(f) {
    const sys = (conn) => {
      const c = (S.plugins && S.plugins.connections || []).find((x) => x.name === conn);
      return (c && I.systems[c.plugin]) || conn;
    };
    const parts = [t('when') + ' ', el('em', null, word(I.events, f.trigger.event)),
      ' ' + t('in') + ' ', el('em', null, sys(f.trigger.connection))];
    for (const s of f.steps) parts.push(' → ', el('em', null, word(I.actions, s.action)),
      ' ' + t('in') + ' ', el('em', null, sys(s.connection)));
    return el('div', { class: 'sentence' }, parts);
  }
  function chart(hours) {
    const NS = 'http://www.w3.org/2000/svg';
    const svg = document.createElementNS(NS, 'svg');
    svg.setAttribute('class', 'chart');
    svg.setAttribute('viewBox', '0 0 240 64');
    svg.setAttribute('preserveAspectRatio', 'none');
    const max = Math.max(1, ...hours.map((h) => h.synced + h.failed));
    hours.forEach((h, i) => {
      const hs = 60 * h.synced / max, hf = 60 * h.failed / max;
      for (const [cls, y, hh] of [['s', 62 - hs, hs], ['f', 62 - hs - hf, hf]]) {
        if (!hh) continue;
        const r = document.createElementNS(NS, 'rect');
        r.setAttribute('class', cls);
        r.setAttribute('x', String(i * 10 + 1)); r.setAttribute('width', '8');
        r.setAttribute('y', String(y)); r.setAttribute('height', String(hh));
        const tt = document.createElementNS(NS, 'title');
        tt.textContent = vnDate(h.hour) + ': ' + h.synced + ' / ' + h.failed;
        r.append(tt);
        svg.append(r);
      }
    });
    const base = document.createElementNS(NS, 'line');
    base.setAttribute('class', 'base');
    base.setAttribute('x1', '0'); base.setAttribute('x2', '240');
    base.setAttribute('y1', '62.5'); base.setAttribute('y2', '62.5');
    svg.append(base);
    return svg;
  }
  function modeSwitch(f) {
    if (!can('operator')) return null;
    const sel = el('select', { 'data-flow': f.id, class: 'mode-select', 'aria-label': t('switchMode') },
      ['automatic', 'manual', 'disabled'].map((m) =>
        el('option', { value: m, selected: m === f.mode }, t(m))));
    sel.addEventListener('change', async () => {
      const mode = sel.value;
      if (!(await confirmBox(t('confirmMode', { flow: f.name, mode: t(mode) })))) {
        sel.value = f.mode;
        return;
      }
      try {
        await api('PUT', '/flows/' + enc(f.id) + '/mode', { mode });
        f.mode = mode;
        await overview(true);
      } catch (e) { sel.value = f.mode; fail(e); }
    });
    return sel;
  }
  async function overview(refresh) {
    const show = S.show;
    const [flows, plugins] = await Promise.all([api('GET', '/flows'), api('GET', '/plugins')]);
    S.flows = flows; S.plugins = plugins;
    const hours = await Promise.all(flows.map((f) => api('GET', '/flows/' + enc(f.id) + '/hourly')));
    const cards = flows.map((f, i) => {
      const counts = ['pending', 'syncing', 'synced', 'failed', 'post_failed', 'skipped']
        .filter((s) => f.documents[s])
        .map((s) => el('span', { class: 'badge st-' + s }, statusLabel(s) + ': ' + num(f.documents[s])));
      return el('div', { class: 'card flow', 'data-flow': f.id },
        el('div', { class: 'flow-title' },
          el('h3', null, el('a', { href: '#/flow/' + enc(f.id) }, f.name)),
          el('span', { class: 'badge mode-' + f.mode, 'data-mode': f.mode }, t(f.mode))),
        sentence(f),
        el('div', { class: 'counts' }, counts.length ? counts : el('span', { class: 'muted' }, t('none'))),
        chart(hours[i]),
        el('div', { class: 'legend' }, t('last24h'), el('span', { class: 'dot s' }), t('synced'),
          el('span', { class: 'dot f' }), t('failedSt')),
        el('div', { class: 'row' }, el('a', { href: '#/flow/' + enc(f.id) }, t('documents') + ' ›'),
          el('a', { href: '#/try/' + enc(f.id), class: 'try-link' }, t('tryLink') + ' ›'),
          el('span', { class: 'spacer' }), modeSwitch(f)));
    });
    const conns = el('table', { id: 'connections' },
      el('thead', null, el('tr', null, [t('name'), t('system'), '', t('lastOk'), t('lastErr')].map((h) => el('th', null, h)))),
      el('tbody', null, plugins.connections.map((c) => el('tr', null,
        el('td', null, c.name), el('td', null, I.systems[c.plugin] || c.plugin),
        el('td', null, el('span', { class: 'badge ' + (c.ready ? 'st-synced' : 'st-failed') }, c.ready ? t('ready') : t('notReady'))),
        el('td', null, vnDate(c.last_success_at)),
        el('td', null, c.last_error_at ? vnDate(c.last_error_at) : '',
          c.last_error || c.error ? el('span', { class: 'reason' }, c.last_error || c.error) : null)))));
    show(el('h1', null, t('flows')), el('div', { class: 'flows' }, cards),
      el('h2', null, t('connections')), conns);
    if (!refresh) every(() => overview(true));
  }

  /* ---- documents of a flow ---- */
  function amountOf(p) {
    if (!p || typeof p !== 'object') return null;
    for (const k of ['total_amount', 'amount', 'total']) if (typeof p[k] === 'number') return p[k];
    if (Array.isArray(p.lines)) {
      let sum = 0, any = false;
      for (const l of p.lines) {
        if (l && typeof l.amount === 'number') { sum += l.amount; any = true; }
        else if (l && typeof l.quantity === 'number' && typeof l.unit_price === 'number') { sum += l.quantity * l.unit_price; any = true; }
      }
      return any ? sum : null;
    }
    return null;
  }
  /* What was created: the first step output that names it (a MISA voucher
   * before the note marked in Kho), else the flow's result. */
  function targetCell(target, outputs) {
    for (const k of Object.keys(outputs || {})) {
      const o = outputs[k];
      if (o && typeof o === 'object' && (o.refno || o.url || o.link)) { target = o; break; }
    }
    if (!target || typeof target !== 'object') return '';
    const url = safeUrl(target.url || target.link);
    const label = target.refno || target.voucher_ref || target.voucher_no || target.order_no || target.refid || target.id;
    const text = label !== undefined ? String(label) : JSON.stringify(target);
    return url ? el('a', { href: url, rel: 'noopener noreferrer', target: '_blank' }, text) : text;
  }
  function statusCell(d) {
    return el('td', { class: 'status' },
      el('span', { class: 'badge st-' + d.status, 'data-status': d.status }, statusLabel(d.status)),
      d.changed_after_sync ? el('span', { class: 'badge st-pending' }, t('changedAfterSync')) : null,
      d.reason && d.status !== 'synced' ? el('span', { class: 'reason' }, d.reason) : null);
  }
  function parseQuery(h) {
    const q = {};
    const i = h.indexOf('?');
    if (i >= 0) new URLSearchParams(h.slice(i + 1)).forEach((v, k) => { q[k] = v; });
    return q;
  }
  async function documents(flow, q) {
    const show = S.show;
    const st = { cursors: [null], page: 0, chosen: new Set(), rows: [] };
    const f = (S.flows.find((x) => x.id === flow)) || { id: flow, name: flow };
    const status = el('select', { id: 'f-status' }, el('option', { value: '' }, t('allStatus')),
      ['pending', 'syncing', 'synced', 'failed', 'post_failed', 'skipped'].map((s) =>
        el('option', { value: s, selected: q.status === s }, statusLabel(s))));
    const from = el('input', { id: 'f-from', class: 'day', placeholder: 'dd/mm/yyyy', value: toVnDay(q.from) });
    const to = el('input', { id: 'f-to', class: 'day', placeholder: 'dd/mm/yyyy', value: toVnDay(q.to) });
    const search = el('input', { type: 'search', id: 'f-q', placeholder: t('search'), value: q.q || '' });
    const apply = () => {
      const p = new URLSearchParams();
      if (status.value) p.set('status', status.value);
      for (const [k, input] of [['from', from], ['to', to]]) {
        if (!input.value.trim()) continue;
        const day = fromVnDay(input.value);
        if (!day) { toast(t('badDay', { v: input.value })); return; }
        p.set(k, day);
      }
      if (search.value.trim()) p.set('q', search.value.trim());
      location.hash = '#/flow/' + enc(flow) + (p.toString() ? '?' + p : '');
    };
    const filters = el('form', { class: 'row filters', onsubmit: (e) => { e.preventDefault(); apply(); } },
      el('label', null, t('statusCol') + ' '), status,
      el('label', null, t('from') + ' '), from, el('label', null, t('to') + ' '), to,
      search, el('button', { type: 'submit', id: 'f-apply' }, t('filter')),
      el('button', { type: 'button', onclick: () => { location.hash = '#/flow/' + enc(flow); } }, t('clear')));
    const pushBtn = can('operator') ? el('button', { class: 'primary', id: 'push', type: 'button', disabled: true }, t('push')) : null;
    const retryBtn = can('operator') ? el('button', { id: 'retry', type: 'button', disabled: true }, t('retry')) : null;
    const info = el('span', { class: 'muted', id: 'chosen' });
    const body = el('tbody');
    const pageNo = el('span', { class: 'muted' });
    const prev = el('button', { type: 'button', id: 'prev' }, t('prev'));
    const next = el('button', { type: 'button', id: 'next' }, t('next'));
    const allBox = el('input', { type: 'checkbox', id: 'all', 'aria-label': 'all' });
    const chosenOf = (s) => st.rows.filter((d) => st.chosen.has(d.document) && d.status === s).map((d) => d.document);
    const updateButtons = () => {
      if (pushBtn) pushBtn.disabled = !chosenOf('pending').length;
      if (retryBtn) retryBtn.disabled = !chosenOf('failed').length;
      info.textContent = st.chosen.size ? t('chosen', { n: st.chosen.size }) : '';
    };
    const requeue = async (what, s) => {
      const ids = chosenOf(s);
      if (!ids.length) return;
      try {
        const r = await api('POST', '/flows/' + enc(flow) + '/' + what, { documents: ids });
        toast(t('queued', { n: (r.queued || ids).length }));
        st.chosen.clear();
        await load();
      } catch (e) { fail(e); }
    };
    if (pushBtn) pushBtn.addEventListener('click', () => requeue('push', 'pending'));
    if (retryBtn) retryBtn.addEventListener('click', () => requeue('retry', 'failed'));
    allBox.addEventListener('change', () => {
      for (const d of st.rows) if (allBox.checked) st.chosen.add(d.document); else st.chosen.delete(d.document);
      render();
    });
    function render() {
      body.replaceChildren(...(st.rows.length ? st.rows.map((d) => {
        const box = el('input', { type: 'checkbox', class: 'pick', 'data-doc': d.document, checked: st.chosen.has(d.document) });
        box.addEventListener('change', () => { if (box.checked) st.chosen.add(d.document); else st.chosen.delete(d.document); updateButtons(); });
        const amt = amountOf(d.payload);
        return el('tr', { 'data-doc': d.document },
          can('operator') ? el('td', null, box) : null,
          el('td', null, el('a', { href: '#/doc/' + enc(flow) + '/' + enc(d.document) }, d.document)),
          el('td', null, vnDate(d.received_at)),
          el('td', { class: 'num' }, amt === null ? '' : money(amt)),
          statusCell(d),
          el('td', { class: 'num' }, d.attempts),
          el('td', null, targetCell(d.target, d.outputs)));
      }) : [el('tr', null, el('td', { colspan: 7, class: 'muted' }, t('none')))]));
      pageNo.textContent = t('page', { n: st.page + 1 });
      prev.disabled = st.page === 0;
      next.disabled = !st.next;
      updateButtons();
    }
    async function load() {
      const p = new URLSearchParams();
      for (const k of ['status', 'from', 'to', 'q']) if (q[k]) p.set(k, q[k]);
      const c = st.cursors[st.page];
      if (c) { p.set('before_t', c.t); p.set('before', c.seq); }
      p.set('limit', '50');
      const r = await api('GET', '/flows/' + enc(flow) + '/page?' + p);
      st.rows = r.documents;
      st.next = r.next;
      render();
    }
    prev.addEventListener('click', () => { st.page--; st.chosen.clear(); load().catch(fail); });
    next.addEventListener('click', () => { st.cursors[st.page + 1] = st.next; st.page++; st.chosen.clear(); load().catch(fail); });
    const head = el('tr', null, can('operator') ? el('th', null, allBox) : null,
      [t('docNo'), t('received'), t('amount'), t('statusCol'), t('attempts'), t('link')].map((h) => el('th', null, h)));
    show(el('h1', null, f.name), el('p', { class: 'muted' }, f.id + ' · ' + t('mode') + ': ' + t(f.mode || 'manual') + ' · ' + t('refresh')),
      filters, el('div', { class: 'row' }, pushBtn, retryBtn, info),
      el('table', { id: 'docs' }, el('thead', null, head), body),
      el('div', { class: 'row pager' }, prev, pageNo, next));
    await load();
    every(load);
  }

  /* ---- one document ---- */
  function pre(v) { return el('pre', null, JSON.stringify(v, null, 2)); }
  async function oneDoc(flow, id) {
    const show = S.show;
    const load = async () => {
      const d = await api('GET', '/flows/' + enc(flow) + '/document?id=' + enc(id));
      const f = S.flows.find((x) => x.id === flow);
      const steps = (f ? f.steps : Object.keys(d.outputs || {}).map((k) => ({ id: k }))).map((s) =>
        el('div', { class: 'step', 'data-step': s.id },
          el('h3', null, t('step') + ' ' + s.id + (s.action ? ' — ' + word(I.actions, s.action) : '')),
          el('div', { class: 'muted' }, t('input')),
          d.inputs && s.id in d.inputs ? pre(d.inputs[s.id]) : el('p', { class: 'muted' }, '—'),
          el('div', { class: 'muted' }, t('output')),
          d.outputs && s.id in d.outputs ? pre(d.outputs[s.id]) : el('p', { class: 'muted' }, '—')));
      show(el('p', null, el('a', { href: '#/flow/' + enc(flow) }, t('back'))),
        el('h1', null, t('docNo') + ' ' + d.document),
        el('table', { class: 'kv card', id: 'doc-summary' }, el('tbody', null,
          el('tr', null, el('td', null, t('flow')), el('td', null, f ? f.name : flow)),
          el('tr', null, el('td', null, t('statusCol')), statusCell(d)),
          el('tr', null, el('td', null, t('attempts')), el('td', null, d.attempts)),
          el('tr', null, el('td', null, t('link')), el('td', { id: 'doc-link' }, targetCell(d.target, d.outputs))),
          d.waiting_for_callback ? el('tr', null, el('td', null, ''), el('td', null, t('waiting'))) : null)),
        el('div', { class: 'grid2' },
          el('div', { class: 'card' }, el('h2', null, t('payload')), el('div', { id: 'doc-payload' }, pre(d.payload))),
          el('div', { class: 'card' }, el('h2', null, t('steps')), steps)),
        el('h2', null, t('history')),
        el('table', { id: 'history' }, el('thead', null, el('tr', null, [t('at'), t('step'), t('outcome'), t('detail')].map((h) => el('th', null, h)))),
          el('tbody', null, d.history.map((h) => el('tr', null, el('td', null, vnDate(h.at)), el('td', null, h.step || ''),
            el('td', null, h.outcome), el('td', null, el('span', { class: /fail|retry|refus/.test(h.outcome) ? 'reason' : 'muted' }, h.detail || '')))))));
    };
    if (!S.flows.length) S.flows = await api('GET', '/flows');
    await load();
    every(load);
  }

  /* ---- the go-live check: one document through the flow, nothing written ---- */
  function tryResult(r) {
    const verdict = r.written ? t('trySent') : r.ok ? t('tryOk') : t('tryProblems', { n: r.problems || 0 });
    const steps = (r.steps || []).map((s) => {
      const rows = Object.keys(s.preview || s.input || {}).map((k) => {
        const v = (s.preview || s.input)[k];
        return el('tr', { 'data-field': k }, el('td', null, k),
          el('td', null, typeof v === 'object' && v !== null ? JSON.stringify(v) : String(v)));
      });
      return el('div', { class: 'card step', 'data-step': s.id },
        el('h3', null, t('step') + ' ' + s.id + ' — ' + word(I.actions, s.action) +
          ' (' + t('check') + ': ' + (s.check || '—') + ')'),
        (s.problems || []).length ? el('ul', { class: 'problems' }, s.problems.map((p) =>
          el('li', { class: 'reason' }, (p.path ? p.path + ': ' : '') + (p.message || '')))) : null,
        el('table', { class: 'kv try-fields' }, el('tbody', null, rows)),
        s.output ? el('div', null, el('div', { class: 'muted' }, t('output')), pre(s.output)) : null);
    });
    return [el('p', { id: 'try-verdict', class: r.ok || r.written ? 'ok' : 'reason',
      'data-ok': String(!!(r.ok || r.written)) }, verdict),
    r.filter ? el('p', { class: 'reason' }, r.filter) : null, steps];
  }
  async function tryPage(flow) {
    const show = S.show;
    if (!S.flows.length) S.flows = await api('GET', '/flows');
    const f = S.flows.find((x) => x.id === flow);
    const input = el('textarea', { id: 'try-doc', rows: '6', placeholder: t('tryHint') });
    const out = el('div', { id: 'try-out' });
    const run = async (send) => {
      const text = input.value.trim();
      let body;
      try {
        body = text.startsWith('{') ? { document: JSON.parse(text) } : { id: text };
      } catch (e) { toast(t('tryBadJson')); return; }
      if (send && !(await confirmBox(t('trySendConfirm', { doc: text.startsWith('{') ? '' : text })))) return;
      if (send) body.send = true;
      out.replaceChildren(el('p', { class: 'muted' }, '…'));
      try {
        out.replaceChildren(...tryResult(await api('POST', '/flows/' + enc(flow) + '/try', body)).flat().filter(Boolean));
      } catch (e) { out.replaceChildren(); fail(e); }
    };
    const canSend = S.me.role !== 'viewer';
    show(el('p', null, el('a', { href: '#/' }, t('back'))),
      el('h1', null, t('tryTitle') + ': ' + (f ? f.name : flow)),
      el('p', { class: 'muted' }, t('tryIntro')),
      input,
      el('div', { class: 'row' },
        el('button', { id: 'try-run', type: 'button', onclick: () => run(false) }, t('tryRun')),
        canSend ? el('button', { id: 'try-send', type: 'button', onclick: () => run(true) }, t('trySend')) : null),
      out);
  }

  /* ---- failed, grouped by reason ---- */
  const flowName = (id) => { const f = S.flows.find((x) => x.id === id); return f ? f.name : id; };
  async function failedPage() {
    const show = S.show;
    if (!S.flows.length) S.flows = await api('GET', '/flows');
    const load = async () => {
      const groups = await api('GET', '/failed');
      const rows = groups.map((g) => el('tr', { class: 'group' },
        el('td', null, el('a', { href: '#/flow/' + enc(g.flow) + '?status=failed' }, flowName(g.flow))),
        el('td', null, el('span', { class: 'reason' }, g.reason || '—')),
        el('td', { class: 'num' }, num(g.count)),
        el('td', null, g.documents.slice(0, 8).map((d, i) => [i ? ', ' : '', el('a', { href: '#/doc/' + enc(g.flow) + '/' + enc(d) }, d)]),
          g.count > 8 ? ' …' : ''),
        can('operator') ? el('td', null, el('button', { type: 'button', class: 'retry-group', onclick: async () => {
          try {
            const r = await api('POST', '/failed/retry', { flow: g.flow, reason: g.reason });
            toast(t('queued', { n: (r.queued || []).length }));
            await load();
          } catch (e) { fail(e); }
        } }, t('retryGroup'))) : null));
      show(el('h1', null, t('failed')), groups.length ? el('table', { id: 'failed' },
        el('thead', null, el('tr', null, [t('flow'), t('reason'), t('count'), t('documents')].map((h) => el('th', null, h)),
          can('operator') ? el('th', null, '') : null)),
        el('tbody', null, rows)) : el('p', { class: 'muted' }, t('noFailed')));
    };
    await load();
    every(load);
  }

  /* ---- mapping tables ---- */
  async function mappingsPage() {
    const show = S.show;
    const r = await api('GET', '/mappings');
    const cards = Object.keys(r.tables).sort().map((name) => {
      const tbl = r.tables[name];
      const rows = Object.keys(tbl).map((k) => el('tr', null, el('td', null, k),
        el('td', null, typeof tbl[k] === 'object' ? JSON.stringify(tbl[k]) : String(tbl[k]))));
      const card = el('div', { class: 'card mapping', 'data-table': name }, el('h2', null, name),
        el('table', null, el('tbody', null, rows)));
      if (can('admin')) {
        const area = el('textarea', { rows: Math.min(24, Object.keys(tbl).length * 4 + 3), class: 'mapping-text', hidden: true },
          JSON.stringify(tbl, null, 2));
        const errs = el('div', { class: 'error' });
        const save = el('button', { type: 'button', class: 'primary mapping-save', hidden: true }, t('save'));
        const edit = el('button', { type: 'button', class: 'mapping-edit' }, t('edit'));
        edit.addEventListener('click', () => { area.hidden = false; save.hidden = false; edit.hidden = true; });
        save.addEventListener('click', async () => {
          errs.replaceChildren();
          let entries;
          try { entries = JSON.parse(area.value); } catch (e) { errs.textContent = t('notJson', { e: e.message }); return; }
          try {
            await api('PUT', '/mappings/' + enc(name), { entries });
            toast(t('saved', { name }));
            await mappingsPage();
          } catch (e) {
            const list = (e.data && e.data.errors) || [e.message];
            errs.replaceChildren(el('b', null, t('notSaved')), el('ul', null, list.map((m) => el('li', null, m))));
          }
        });
        card.append(el('div', { class: 'row' }, edit), area, errs, el('div', { class: 'row' }, save));
      }
      return card;
    });
    show(el('h1', null, t('mappings')), cards);
  }

  /* ---- audit log ---- */
  function actionLabel(a) {
    const m = /^\/mappings\/(.+)$/.exec(a);
    if (m) return t('act_mapping', { name: m[1] });
    const k = 'act_' + a.replace(/[^a-z]/g, '_').replace(/^_+/, '');
    return I[S.lang][k] ? t(k) : a;
  }
  async function auditPage() {
    const show = S.show;
    if (!S.flows.length) S.flows = await api('GET', '/flows');
    const rows = await api('GET', '/audit?limit=200');
    show(el('h1', null, t('audit')), el('table', { id: 'audit' },
      el('thead', null, el('tr', null, [t('at'), t('who'), t('action'), t('flow'), t('detail')].map((h) => el('th', null, h)))),
      el('tbody', null, rows.map((a) => el('tr', null, el('td', { class: 'nowrap' }, vnDate(a.at)), el('td', null, a.user),
        el('td', null, actionLabel(a.action)), el('td', null, a.flow ? flowName(a.flow) : ''), el('td', null, el('span', { class: 'muted' }, a.detail || '')))))));
  }

  /* ---- users ---- */
  async function usersPage() {
    const show = S.show;
    const list = await api('GET', '/users');
    const name = el('input', { id: 'u-name', placeholder: t('userName') });
    const pw = el('input', { id: 'u-password', type: 'password', placeholder: t('password') });
    const role = el('select', { id: 'u-role' }, ['viewer', 'operator', 'admin'].map((r) => el('option', { value: r }, t(r))));
    const add = el('form', { class: 'row card', onsubmit: async (e) => {
      e.preventDefault();
      try { await api('POST', '/users', { name: name.value, password: pw.value, role: role.value }); await usersPage(); } catch (x) { fail(x); }
    } }, name, pw, role, el('button', { type: 'submit', class: 'primary' }, t('addUser')));
    show(el('h1', null, t('users')), add, el('table', { id: 'users' },
      el('thead', null, el('tr', null, [t('name'), t('role'), t('since'), ''].map((h) => el('th', null, h)))),
      el('tbody', null, list.map((u) => el('tr', null, el('td', null, u.name), el('td', null, t(u.role)),
        el('td', null, vnDate(u.created_at, false)),
        el('td', null, u.name === S.me.name ? '' : el('button', { type: 'button', onclick: async () => {
          if (!(await confirmBox(t('remove') + ' ' + u.name + '?'))) return;
          try { await api('DELETE', '/users/' + enc(u.name)); await usersPage(); } catch (x) { fail(x); }
        } }, t('remove'))))))));
  }

  /* ---- routing ---- */
  function route() {
    stopTimer();
    if (!S.me) return;
    chrome();
    S.show = pageShow();
    const h = location.hash || '#/';
    const path = h.split('?')[0].slice(1).split('/').map(decodeURIComponent);
    let p;
    if (path[1] === 'flow' && path[2]) p = documents(path[2], parseQuery(h));
    else if (path[1] === 'doc' && path[3] !== undefined) p = oneDoc(path[2], path.slice(3).join('/'));
    else if (path[1] === 'try' && path[2]) p = tryPage(path[2]);
    else if (path[1] === 'failed') p = failedPage();
    else if (path[1] === 'mappings') p = mappingsPage();
    else if (path[1] === 'audit') p = auditPage();
    else if (path[1] === 'users') p = usersPage();
    else p = overview();
    p.catch(fail);
  }
  async function start() {
    document.documentElement.lang = S.lang;
    route();
  }

  $('lang').addEventListener('click', switchLang);
  $('signout').addEventListener('click', signOut);
  window.addEventListener('hashchange', route);
  document.documentElement.lang = S.lang;
  api('GET', '/session').then((me) => {
    S.me = me; S.csrf = me.csrf;
    start();
  }).catch(() => signInPage());
})();
