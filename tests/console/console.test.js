/* console.test.js - the web console in a real browser, as the people in
 * the seeds use it: an accountant pushes an issue note to MISA, an admin
 * fixes a mapping table, a viewer only looks. Run by run.sh. */
'use strict';
const { test, before, after } = require('node:test');
const assert = require('node:assert/strict');
const L = require('./lib');

let browser;
before(async () => { browser = await L.launch(); });
after(async () => { if (browser) await browser.close(); });

const row = (page, doc) => page.locator(`#docs tr[data-doc="${doc.replace(/["\\]/g, '\\$&')}"]`);
const statusOf = async (page, doc) =>
  row(page, doc).locator('[data-status]').getAttribute('data-status', { timeout: 1000 }).catch(() => null);
async function waitStatus(page, doc, want) {
  await L.until(`${doc} ${want} on the page`, async () => (await statusOf(page, doc)) === want, 20000);
}
async function saveNote(type, extra) {
  const body = type === 'other_issue'
    ? { type, stock_code: 'KHO_HN', lines: [{ item_code: 'SP002', quantity: 2 }], ...(extra || {}) }
    : { type, sale_order_no: 'DH00001', lines: [{ item_code: 'SP001', quantity: 1 }], ...(extra || {}) };
  return (await L.khoAct('save_issue_note', body)).issue_note.issue_note_no;
}
async function setMode(mode) {
  const r = await L.api('PUT', `/flows/${L.W3}/mode`, { mode });
  assert.equal(r.status, 200);
}
async function editMapping(page, table, change) {
  await page.goto(L.URL + '/#/mappings');
  await page.reload(); /* the table as saved, not an edit left open */
  const card = page.locator(`.mapping[data-table="${table}"]`);
  const area = card.locator('.mapping-text');
  await card.locator('h2').waitFor();
  if (await area.isHidden()) await card.locator('.mapping-edit').click();
  const entries = change(JSON.parse(await area.inputValue()));
  await area.fill(JSON.stringify(entries, null, 2));
  const answered = page.waitForResponse((r) => r.url().includes('/api/mappings/'));
  await card.locator('.mapping-save').click();
  card.status = (await answered).status();
  return card;
}

test('sign in per role: a viewer has no push button and the API answers 403', async () => {
  const viewer = await L.newPage(browser);
  await viewer.goto(L.URL + '/');
  await L.shot(viewer, 'signin');
  await viewer.fill('#name', 'viewer');
  await viewer.fill('#password', 'wrong-password');
  await viewer.click('#signin');
  await viewer.waitForSelector('#signin-error:not(:empty)');
  await L.signIn(viewer, 'viewer');
  assert.match(await viewer.textContent('#me'), /viewer/);
  await viewer.waitForSelector('.flow');
  assert.equal(await viewer.locator('.mode-select').count(), 0, 'no mode switch for a viewer');
  assert.equal(await viewer.locator('#nav-users').count(), 0);
  await viewer.goto(L.URL + `/#/flow/${L.W3}`);
  await viewer.waitForSelector('#docs');
  assert.equal(await viewer.locator('#push').count(), 0, 'no push button for a viewer');
  assert.equal(await viewer.locator('#retry').count(), 0);
  const r = await L.pageCall(viewer, 'POST', `/flows/${L.W3}/push`, { all: true }, true);
  assert.equal(r.status, 403);
  assert.match(r.json.error, /viewer.*operator/);

  const op = await L.newPage(browser);
  await L.signIn(op, 'operator');
  // the overview first, as for the viewer: a route asked for while the
  // page still renders its first view after signing in can be overridden
  await op.waitForSelector('.flow');
  await op.goto(L.URL + `/#/flow/${L.W3}`);
  await op.waitForSelector('#push');
  assert.equal(await op.locator('#nav-users').count(), 0);
  const admin = await L.newPage(browser);
  await L.signIn(admin, 'admin');
  await admin.waitForSelector('#nav-users');
  const cookies = await admin.context().cookies();
  const c = cookies.find((x) => x.name === 'luong_session');
  assert.ok(c.httpOnly, 'the session cookie is HttpOnly');
  assert.equal(c.sameSite, 'Strict');
  assert.equal(await admin.evaluate(() => document.cookie), '', 'scripts cannot read it');
  for (const p of [viewer, op, admin]) {
    assert.deepEqual(p.errors, []);
    await p.context().close();
  }
});

test('a wrong or missing CSRF token is refused', async () => {
  const op = await L.newPage(browser);
  await L.signIn(op, 'operator');
  for (const token of ['0'.repeat(64), null]) {
    const r = await L.pageCall(op, 'PUT', `/flows/${L.W3}/mode`, { mode: 'disabled' }, token);
    assert.equal(r.status, 403);
    assert.match(r.json.error, /CSRF/);
  }
  const flows = (await L.api('GET', '/flows')).json;
  assert.notEqual(flows.find((f) => f.id === L.W3).mode, 'disabled');
  await op.context().close();
});

test('W3 switched to manual on the page; a saved issue note waits, is pushed from the page and becomes a MISA voucher', async () => {
  await setMode('automatic');
  const op = await L.newPage(browser);
  await L.signIn(op, 'operator');
  const card = op.locator(`.flow[data-flow="${L.W3}"]`);
  await card.locator('.mode-select').selectOption('manual');
  await op.waitForSelector('#confirm-yes');
  await L.shot(op, 'mode-confirm');
  await op.click('#confirm-yes');
  await op.waitForSelector(`.flow[data-flow="${L.W3}"] [data-mode="manual"]`);
  const flows = (await L.api('GET', '/flows')).json;
  assert.equal(flows.find((f) => f.id === L.W3).mode, 'manual');

  await op.goto(L.URL + `/#/flow/${L.W3}`);
  await op.waitForSelector('#docs');
  const no = await saveNote('other_issue');
  await waitStatus(op, no, 'pending'); /* live: the page was not reloaded */
  assert.match(await row(op, no).locator('.status').textContent(), /Chưa đồng bộ/);
  assert.ok(!(await L.misaVouchers()).some((v) => (v.voucher || {}).org_refno === no), 'not sent before the push');
  await row(op, no).locator('input.pick').check();
  await op.click('#push');
  await waitStatus(op, no, 'synced');
  assert.match(await row(op, no).locator('.status').textContent(), /Đã đồng bộ/);
  const v = await L.until('the voucher in MISA', async () =>
    (await L.misaVouchers()).find((x) => (x.voucher || {}).org_refno === no));
  assert.ok(v, 'MISA has the voucher');
  await row(op, no).locator('a').first().click();
  await op.waitForSelector('#history');
  assert.match(await op.textContent('#doc-payload'), new RegExp(no));
  assert.ok((await op.textContent('#doc-link')).trim().length > 0, 'the link to what was created');
  /* each step's mapped input and its output */
  const voucher = await op.textContent('.step[data-step="voucher"]');
  assert.match(voucher, new RegExp('"org_refno": "' + no + '"'));
  assert.match(voucher, /"refno":/);
  await L.shot(op, 'document');
  assert.deepEqual(op.errors, []);
  await op.context().close();
});

test('the go-live check previews a note field by field and names an unknown item code, writing nothing', async () => {
  await setMode('manual');
  const op = await L.newPage(browser);
  await L.signIn(op, 'operator');
  await op.locator(`.flow[data-flow="${L.W3}"] .try-link`).click();
  await op.waitForSelector('#try-doc');
  const good = await saveNote('other_issue');
  await L.until(`${good} stored`, async () =>
    (await L.api('GET', `/flows/${L.W3}/document?id=${good}`)).status === 200);
  const before = (await L.misaVouchers()).length;
  await op.fill('#try-doc', good);
  await op.click('#try-run');
  await op.waitForSelector('#try-verdict');
  assert.equal(await op.getAttribute('#try-verdict', 'data-ok'), 'true',
    await op.textContent('#try-out'));
  assert.match(await op.textContent('#try-verdict'), /Sẵn sàng/);
  assert.ok(await op.locator('.try-fields tr[data-field="voucher_type"]').count() > 0, 'the fields it would write');
  await L.shot(op, 'golive');
  /* a document given as JSON with an item MISA does not have */
  await op.fill('#try-doc', JSON.stringify({ issue_note_type: 'other_issue', issue_note_no: 'XK-TRY-1',
    stock_code: 'KHO_HN', lines: [{ item_code: 'SP-KHONG-CO', quantity: 1, unit_price: 1000, amount: 1000 }] }));
  await op.click('#try-run');
  await L.until('the problem listed', async () => (await op.locator('.problems li').count()) > 0);
  assert.equal(await op.getAttribute('#try-verdict', 'data-ok'), 'false');
  assert.match(await op.textContent('.problems'), /SP-KHONG-CO/);
  assert.equal((await L.misaVouchers()).length, before, 'nothing written to MISA');
  assert.deepEqual(op.errors, []);
  await op.context().close();
});

test('a failed document is retried from the page after its mapping is fixed in the page, and its group from the Failed page', async () => {
  const admin = await L.newPage(browser);
  await L.signIn(admin, 'admin');
  /* a change the flows' entries do not fit is refused before saving */
  let card = await editMapping(admin, 'issue_note_voucher_types', (t) => {
    t.other_issue = { voucher_type: 51 };
    return t;
  });
  assert.equal(card.status, 422);
  await card.locator('.error li').first().waitFor();
  assert.match(await card.locator('.error').textContent(), /other_issue.*reftype.*missing/);
  /* the accountant's table loses its "other issue" row */
  let saved = null;
  card = await editMapping(admin, 'issue_note_voucher_types', (t) => {
    saved = t.other_issue;
    delete t.other_issue;
    return t;
  });
  assert.equal(card.status, 200);
  const no = await saveNote('other_issue');
  const other = await saveNote('other_issue');
  const docStatus = async (id) => (await L.api('GET', `/flows/${L.W3}/document?id=${id}`)).json.status;
  await L.until('the notes in the ledger', async () =>
    (await docStatus(no)) === 'pending' && (await docStatus(other)) === 'pending');
  assert.equal((await L.api('POST', `/flows/${L.W3}/push`, { documents: [no, other] })).status, 200);
  await L.until('the notes failed', async () =>
    (await docStatus(no)) === 'failed' && (await docStatus(other)) === 'failed');

  await admin.goto(L.URL + '/#/failed');
  await admin.waitForSelector('#failed .group');
  const group = admin.locator('#failed .group', { hasText: 'other_issue' });
  assert.equal((await group.locator('td.num').textContent()).trim(), '2');
  await L.shot(admin, 'failed');

  card = await editMapping(admin, 'issue_note_voucher_types', (t) => ({ ...t, other_issue: saved }));
  assert.equal(card.status, 200);
  await admin.waitForSelector('#toast:not([hidden])');
  await L.shot(admin, 'mappings');
  await admin.goto(L.URL + `/#/flow/${L.W3}?status=failed`);
  await waitStatus(admin, no, 'failed');
  assert.match(await row(admin, no).locator('.reason').textContent(), /other_issue/);
  await row(admin, no).locator('input.pick').check();
  await admin.click('#retry');
  await admin.goto(L.URL + `/#/flow/${L.W3}?q=${encodeURIComponent(no)}`);
  await waitStatus(admin, no, 'synced');
  assert.ok((await L.misaVouchers()).some((v) => (v.voucher || {}).org_refno === no));
  /* the rest of the group, retried as a group from the Failed page */
  await admin.goto(L.URL + '/#/failed');
  await L.until('the group of one', async () =>
    (await group.locator('td.num').textContent({ timeout: 1000 }).catch(() => '')).trim() === '1');
  await group.locator('.retry-group').click();
  await L.until('the group retried', async () => (await docStatus(other)) === 'synced');
  assert.ok((await L.misaVouchers()).some((v) => (v.voucher || {}).org_refno === other));
  assert.deepEqual(admin.errors, []);
  await admin.context().close();
});

test('the hostile document renders as text', async () => {
  const evil = '"><img src=x onerror="window.__pwned=1"><script>window.__pwned=2</script>';
  const no = await saveNote('other_issue', { description: evil, receiver: '<b>bold</b>' });
  const op = await L.newPage(browser);
  await L.signIn(op, 'operator');
  await op.goto(L.URL + `/#/doc/${L.W3}/${encodeURIComponent(no)}`);
  await op.waitForSelector('#doc-payload');
  /* the payload is shown as JSON: the quotes escaped, the rest as is */
  const shown = JSON.stringify(evil).slice(1, -1);
  assert.ok((await op.textContent('#doc-payload')).includes(shown), 'shown as the text it is');
  await op.goto(L.URL + `/#/flow/${L.W3}?q=${encodeURIComponent(no)}`);
  await waitStatus(op, no, 'pending');
  assert.equal(await op.locator('main img, main script, main b').count(), 0);
  assert.equal(await op.locator('main img, main script, main b').count(), 0);
  assert.equal(await op.evaluate(() => window.__pwned), undefined);
  assert.deepEqual(op.errors, []);
  await op.context().close();
});

test('Vietnamese by default, English on switch; dates dd/mm/yyyy and money 1.234.567 ₫', async () => {
  const v = await L.newPage(browser);
  await v.goto(L.URL + '/');
  assert.equal(await v.textContent('#signin'), 'Đăng nhập');
  await L.signIn(v, 'viewer');
  assert.equal(await v.textContent('#nav-overview'), 'Tổng quan');
  await v.waitForSelector('.flow');
  await L.shot(v, 'overview');
  await v.goto(L.URL + `/#/flow/${L.W3}`);
  await v.waitForSelector('#docs tbody tr[data-doc]');
  assert.match(await v.textContent('#docs thead'), /TT đồng bộ với kế toán/);
  const cells = await v.locator('#docs tbody tr[data-doc]').first().locator('td').allTextContents();
  assert.ok(cells.some((c) => /^\d{2}\/\d{2}\/\d{4} \d{2}:\d{2}$/.test(c)), 'a date dd/mm/yyyy: ' + cells);
  assert.ok(cells.some((c) => /^\d{1,3}(\.\d{3})+ ₫$/.test(c)), 'money 1.234.567 ₫: ' + cells);
  /* the day filter takes dd/mm/yyyy */
  const today = cells.find((c) => /^\d{2}\/\d{2}\/\d{4} /.test(c)).slice(0, 10);
  await v.fill('#f-from', today);
  await v.fill('#f-to', today);
  await v.click('#f-apply');
  await v.waitForFunction(() => /from=\d{4}-\d{2}-\d{2}&to=/.test(location.hash));
  await v.waitForSelector('#docs tbody tr[data-doc]');
  assert.equal(await v.inputValue('#f-from'), today);
  await L.shot(v, 'documents');
  await v.click('#lang');
  await v.waitForSelector('#nav-overview:text("Overview")');
  assert.match(await v.textContent('#docs thead'), /Accounting sync status/);
  await v.reload();
  await v.waitForSelector('#nav-overview:text("Overview")'); /* kept */
  await v.goto(L.URL + '/#/');
  await v.waitForSelector('.flow');
  await L.shot(v, 'overview-en');
  await v.click('#lang');
  await v.waitForSelector('#nav-overview:text("Tổng quan")');
  assert.deepEqual(v.errors, []);
  await v.context().close();
});

test('the audit log names who switched, pushed, retried and edited', async () => {
  const admin = await L.newPage(browser);
  await L.signIn(admin, 'admin');
  await admin.goto(L.URL + '/#/audit');
  await admin.waitForSelector('#audit tbody tr');
  const text = await admin.textContent('#audit');
  for (const re of [/operator\s*Đổi chế độ/, /operator\s*Đẩy sang đích/, /admin\s*Thử lại/,
    /admin\s*Sửa bảng ánh xạ issue_note_voucher_types/])
    assert.match(text, re);
  await L.shot(admin, 'audit');
  await admin.context().close();
});
