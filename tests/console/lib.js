/* lib.js - what the console's browser tests share: the browser, signing
 * in per role, the admin API and the sandbox emulators. run.sh gives the
 * addresses in the environment. */
'use strict';
const { chromium } = require('playwright-core');
const path = require('path');

const URL = process.env.LUONG_URL;
const KHO = process.env.KHO_URL;
const MISA = process.env.MISA_URL;
const TOKEN = process.env.LUONG_TOKEN;
const SHOTS = process.env.SHOTS || '';
const W3 = 'issue-note-to-accounting';

async function launch() {
  /* Playwright gives every launch a fresh profile (--user-data-dir) */
  return chromium.launch({
    executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
}

/* A new page of its own context, with page errors collected. */
async function newPage(browser, opts) {
  const ctx = await browser.newContext({ viewport: { width: 1280, height: 860 }, ...(opts || {}) });
  const page = await ctx.newPage();
  page.errors = [];
  page.on('pageerror', (e) => page.errors.push(e.message));
  return page;
}

async function signIn(page, role) {
  await page.goto(URL + '/');
  await page.fill('#name', role);
  await page.fill('#password', 'console-' + role + '-pass');
  await page.click('#signin');
  await page.waitForSelector('#nav-overview');
}

/* The admin API with the admin token (what scripts use). */
async function api(method, p, body) {
  const r = await fetch(URL + '/api' + p, {
    method,
    headers: { Authorization: 'Bearer ' + TOKEN, 'Content-Type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await r.text();
  return { status: r.status, json: text ? JSON.parse(text) : null };
}

/* A call from the page itself, with its cookie; csrf: the token to send
 * (true: the session's own). */
async function pageCall(page, method, p, body, csrf) {
  return page.evaluate(async ([method, p, body, csrf]) => {
    const h = { 'Content-Type': 'application/json' };
    if (csrf === true) {
      const s = await (await fetch('/api/session')).json();
      h['X-CSRF-Token'] = s.csrf;
    } else if (csrf) {
      h['X-CSRF-Token'] = csrf;
    }
    const r = await fetch('/api' + p, { method, headers: h, body: JSON.stringify(body) });
    return { status: r.status, json: await r.json() };
  }, [method, p, body, csrf]);
}

/* An act of a user in the AMIS Kho emulator. */
async function khoAct(name, body) {
  const r = await fetch(KHO + '/_sandbox/act/' + name, { method: 'POST', body: JSON.stringify(body) });
  const j = await r.json();
  if (!r.ok) throw new Error('kho ' + name + ': ' + JSON.stringify(j));
  return j;
}

async function misaVouchers() {
  const r = await fetch(MISA + '/_sandbox/state');
  return (await r.json()).vouchers;
}

async function until(what, fn, ms) {
  const end = Date.now() + (ms || 15000);
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > end) throw new Error('timed out waiting for ' + what);
    await new Promise((ok) => setTimeout(ok, 200));
  }
}

async function shot(page, name) {
  if (!SHOTS) return;
  await page.evaluate(() => { document.getElementById('toast').hidden = true; });
  await page.screenshot({ path: path.join(SHOTS, name + '.png'), fullPage: true });
}

module.exports = { URL, W3, launch, newPage, signIn, api, pageCall, khoAct, misaVouchers, until, shot };
