'use strict';
// dashboard.test.js -- the server-rendered dashboard in a real browser
// (Debian's Chromium driven by playwright-core): sign-in, the workspace
// switcher, settings, billing, API keys, invitations, activity, roles, CSRF,
// sign-out, phone width.  Each test makes its own workspace and users
// through the JSON API, so the tests run in any order and again and again.

const { test, before, after } = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const h = require('./helpers');

const T = { timeout: 90000 };
let browser;

before(async () => { browser = await h.launch(); });
after(async () => { if (browser) await browser.close(); });

// A signed-in page for `user` in a fresh context (closed by the caller's context).
async function signedIn(user, opts = {}) {
  const context = await h.newContext(browser, opts);
  const page = await context.newPage();
  await h.signIn(page, user);
  return { context, page };
}

const text = (loc) => loc.innerText().then((s) => s.replace(/\s+/g, ' ').trim());

test('01 sign in at /login lands on /dashboard listing the workspace with role and tier', T, h.withShot('01-sign-in', async (t, s) => {
  const { tenant, owner } = await h.createTenant({ label: 'signin', tier: 'business' });
  const context = await h.newContext(browser);
  t.after(() => context.close());
  const page = s.page = await context.newPage();

  const resp = await page.goto('/login');
  assert.equal(resp.status(), 200);
  assert.equal(await text(page.locator('h1')), 'Sign in');
  await page.fill('#email', owner.email);
  await page.fill('#password', owner.password);
  await Promise.all([
    page.waitForURL('**/dashboard'),
    page.getByRole('button', { name: 'Sign in' }).click(),
  ]);
  assert.equal(new URL(page.url()).pathname, '/dashboard');
  assert.equal(await text(page.locator('main h1')), 'Your workspaces');

  const card = page.locator('ul.cards > li.card').filter({ hasText: tenant.name });
  assert.equal(await card.count(), 1, 'one card for the workspace');
  assert.equal(await card.locator('h2 a').getAttribute('href'), `/w/${tenant.slug}`);
  assert.equal(await text(card.locator('h2')), tenant.name);
  const badges = await card.locator('.badge').allInnerTexts();
  assert.ok(badges.map((b) => b.trim()).includes('role: owner'), `role badge in ${JSON.stringify(badges)}`);
  assert.equal((await card.locator('.badge.tier').innerText()).trim(), 'business plan');

  // The session cookie is the one SPEC §2 describes.
  const cookie = (await context.cookies()).find((c) => c.name === '__Host-tenantry');
  assert.ok(cookie, 'the __Host-tenantry session cookie is set');
  assert.equal(cookie.httpOnly, true);
  assert.equal(cookie.secure, true);
  assert.equal(cookie.sameSite, 'Lax');
  assert.equal(cookie.path, '/');
}));

test('02 the header switcher moves from workspace A to workspace B', T, h.withShot('02-switch-workspace', async (t, s) => {
  const owner = await h.createUser('switcher');
  const { tenant: a } = await h.createTenant({ label: 'alpha', owner });
  const { tenant: b } = await h.createTenant({ label: 'bravo', tier: 'starter' });
  await h.addMember(b, 'admin', owner);

  const { context, page } = await signedIn(owner);
  t.after(() => context.close());
  s.page = page;
  await page.goto(`/w/${a.slug}`);
  assert.equal(await text(page.locator('main h1')), a.name);
  assert.equal(await text(page.locator('details.switcher > summary')), a.name);

  await page.locator('details.switcher > summary').click();
  const link = page.locator('details.switcher a', { hasText: b.name });
  await link.waitFor({ state: 'visible' });
  await Promise.all([page.waitForURL(`**/w/${b.slug}`), link.click()]);

  assert.equal(new URL(page.url()).pathname, `/w/${b.slug}`);
  assert.equal(await text(page.locator('main h1')), b.name);
  assert.equal(await text(page.locator('details.switcher > summary')), b.name);
  assert.match(await text(page.locator('.pagehead')), /starter plan/);
  assert.match(await text(page.locator('.pagehead')), /your role: admin/);
  // The tabs are B's, Overview marked current.
  const hrefs = await page.locator('nav.tabs a').evaluateAll((as) => as.map((x) => x.getAttribute('href')));
  assert.ok(hrefs.length >= 3, `tabs: ${hrefs}`);
  for (const href of hrefs) assert.ok(href.startsWith(`/w/${b.slug}`), `tab ${href} belongs to B`);
  assert.equal(await page.locator('nav.tabs a[aria-current="page"]').getAttribute('href'), `/w/${b.slug}`);
  assert.equal(await page.locator('details.switcher a[aria-current="page"]').getAttribute('href'), `/w/${b.slug}`);
  assert.equal(await page.locator(`nav.tabs a[href^="/w/${a.slug}"]`).count(), 0, 'no tab of A is left');
}));

test('03 a settings change is saved, flashed and persisted', T, h.withShot('03-settings-saved', async (t, s) => {
  const { tenant, owner } = await h.createTenant({ label: 'settings' });
  const { context, page } = await signedIn(owner);
  t.after(() => context.close());
  s.page = page;

  await page.goto(`/w/${tenant.slug}/settings`);
  assert.equal(await page.inputValue('#name'), tenant.name);
  assert.equal(await page.inputValue('#branding_primary_color'), '#000000');
  const newName = `Renamed ${h.RUN}`;
  await page.fill('#name', newName);
  await page.fill('#branding_primary_color', '#0a5fff');
  await page.fill('#security_session_timeout_minutes', '45');
  const [resp] = await Promise.all([
    page.waitForResponse((r) => r.request().method() === 'POST' && r.url().endsWith(`/w/${tenant.slug}/settings`)),
    page.getByRole('button', { name: 'Save settings' }).click(),
  ]);
  assert.equal(resp.status(), 303, 'the save redirects (POST/redirect/GET)');
  await page.waitForLoadState();
  assert.equal(new URL(page.url()).pathname, `/w/${tenant.slug}/settings`);
  assert.equal(await text(page.locator('p.flash[role="status"]')), 'Settings saved.');
  await h.shot(page, '03-settings-saved-flash');

  // A fresh load: the values are there, and the flash was shown once only.
  await page.goto(`/w/${tenant.slug}/settings`);
  assert.equal(await page.inputValue('#name'), newName);
  assert.equal(await page.inputValue('#branding_primary_color'), '#0a5fff');
  assert.equal(await page.inputValue('#security_session_timeout_minutes'), '45');
  assert.equal(await page.locator('p.flash').count(), 0, 'the flash is gone on the next page');
  assert.equal(await text(page.locator('details.switcher > summary')), newName, 'the header shows the new name');

  // And the API agrees.
  const tok = await h.adminToken();
  const got = await h.api('GET', `/api/v1/tenants/${tenant.id}`, { token: tok }, 200);
  assert.equal(got.name, newName);
  const st = await h.api('GET', '/api/v1/tenants/current/settings', { token: tok, headers: { 'X-Tenant-ID': tenant.id } }, 200);
  assert.equal(st.settings.branding.primary_color, '#0a5fff');
  assert.equal(st.settings.security.session_timeout_minutes, 45);
}));

test('04 a validation error is 422 with the message at its field and the typed values kept', T, h.withShot('04-settings-invalid', async (t, s) => {
  const { tenant, owner } = await h.createTenant({ label: 'invalid' });
  const { context, page } = await signedIn(owner);
  t.after(() => context.close());
  s.page = page;

  await page.goto(`/w/${tenant.slug}/settings`);
  const typedName = `Typed ${h.RUN}`;
  await page.fill('#name', typedName);
  await page.fill('#branding_primary_color', 'blue');
  await page.fill('#branding_logo_url', 'https://cdn.example.com/logo.png');
  await page.fill('#security_session_timeout_minutes', '3');
  await page.fill('#security_ip_whitelist', '203.0.113.0/24');
  const [resp] = await Promise.all([
    page.waitForResponse((r) => r.request().method() === 'POST' && r.url().endsWith(`/w/${tenant.slug}/settings`)),
    page.getByRole('button', { name: 'Save settings' }).click(),
  ]);
  assert.equal(resp.status(), 422);
  await page.waitForLoadState();
  assert.match(await text(page.locator('main .alert[role="alert"]')), /need fixing/i);

  // Each error sits in its field's container, and the input points at it.
  for (const id of ['branding_primary_color', 'security_session_timeout_minutes']) {
    const input = page.locator(`#${id}`);
    const field = page.locator('.field', { has: input });
    assert.equal(await field.count(), 1, `${id} has one .field container`);
    assert.match(await field.getAttribute('class'), /\binvalid\b/);
    const err = field.locator('.field-error');
    assert.equal(await err.count(), 1, `${id}: the error is inside its .field`);
    const errText = await text(err);
    assert.ok(errText.length > 0, `${id}: the error says something`);
    assert.equal(await input.getAttribute('aria-invalid'), 'true');
    const described = (await input.getAttribute('aria-describedby')) || '';
    const errId = await err.getAttribute('id');
    assert.ok(errId && described.split(/\s+/).includes(errId), `${id}: aria-describedby (${described}) names ${errId}`);
  }
  assert.match(await text(page.locator('.field', { has: page.locator('#branding_primary_color') }).locator('.field-error')), /#RRGGBB/i);
  assert.match(await text(page.locator('.field', { has: page.locator('#security_session_timeout_minutes') }).locator('.field-error')), /5.*1440/);
  // Fields without a problem are not marked.
  assert.equal(await page.locator('#name').getAttribute('aria-invalid'), null);
  assert.equal(await page.locator('.field', { has: page.locator('#name') }).locator('.field-error').count(), 0);

  // What was typed is still there, the bad values included.
  assert.equal(await page.inputValue('#name'), typedName);
  assert.equal(await page.inputValue('#branding_primary_color'), 'blue');
  assert.equal(await page.inputValue('#branding_logo_url'), 'https://cdn.example.com/logo.png');
  assert.equal(await page.inputValue('#security_session_timeout_minutes'), '3');
  assert.equal((await page.inputValue('#security_ip_whitelist')).trim(), '203.0.113.0/24');

  // Nothing was saved.
  const got = await h.api('GET', `/api/v1/tenants/${tenant.id}`, { token: await h.adminToken() }, 200);
  assert.equal(got.name, tenant.name);
}));

test('05 billing shows a chart per meter, the month as YYYY-MM, and the previous month by link', T, h.withShot('05-billing', async (t, s) => {
  const { tenant, owner } = await h.createTenant({ label: 'billing' });
  const tt = await h.tenantToken(owner, tenant);
  const quantity = 2500000;
  const ing = await h.api('POST', '/api/v1/usage/events', {
    token: tt, body: { events: [{ meter: 'tokens', quantity, idempotency_key: `k1-${h.RUN}` }] },
  }, 202);
  assert.equal(ing.accepted, 1);
  const usage = await h.api('GET', `/admin/billing/tenants/${tenant.id}/usage`, { token: tt }, 200);
  const meterNames = Object.keys(usage.meters);
  assert.ok(meterNames.length >= 2, `meters: ${meterNames}`);
  assert.equal(usage.meters.tokens.total, quantity);

  const { context, page } = await signedIn(owner);
  t.after(() => context.close());
  s.page = page;
  const resp = await page.goto(`/w/${tenant.slug}/billing`);
  assert.equal(resp.status(), 200);

  const month = await text(page.locator('main h1 .month'));
  assert.match(month, /^\d{4}-(0[1-9]|1[0-2])$/);
  assert.equal(month, usage.month);
  assert.equal(month, h.monthOf(0));

  // One chart per meter, each captioned with its meter's name.
  assert.equal(await page.locator('main svg.chart').count(), meterNames.length);
  const captions = await page.locator('figure.chart-card figcaption strong').allInnerTexts();
  assert.deepEqual(captions.map((c) => c.trim()).sort(), [...meterNames].sort());
  assert.equal(await page.locator('table.totals tbody tr').count(), meterNames.length);

  // The tokens chart has a visible bar on the day the usage was reported.
  const tokensChart = page.locator('figure.chart-card', { has: page.locator('figcaption strong', { hasText: /^tokens$/ }) }).locator('svg.chart');
  const bars = await tokensChart.locator('rect.chart-bar').evaluateAll((rs) => rs.map((r) => ({
    h: parseFloat(r.getAttribute('height')), title: r.querySelector('title')?.textContent || '',
  })));
  assert.equal(bars.length, usage.meters.tokens.daily.length, 'one bar per day of the month');
  const tall = bars.filter((b) => b.h > 0);
  assert.equal(tall.length, 1, `exactly one non-zero bar: ${JSON.stringify(tall)}`);
  assert.ok(tall[0].h >= 1, `the bar is visible (height ${tall[0].h})`);
  assert.match(tall[0].title, /2,500,000/);
  const tokensRow = page.locator('table.totals tbody tr', { has: page.locator('th', { hasText: /^tokens$/ }) });
  assert.match(await text(tokensRow), /2,500,000/);
  await h.shot(page, '05-billing-current');

  // The previous month: a shareable URL, and the heading says so.
  const prev = h.monthOf(-1, new Date(`${month}-15T00:00:00Z`));
  await Promise.all([
    page.waitForURL((u) => u.searchParams.get('month') === prev),
    page.locator('main a[rel="prev"]').click(),
  ]);
  assert.equal(new URL(page.url()).searchParams.get('month'), prev);
  assert.equal(await text(page.locator('main h1 .month')), prev);
  assert.match(await page.title(), new RegExp(prev));
  assert.equal(await page.locator('main svg.chart').count(), meterNames.length);
  // Nothing was reported that month.
  const prevTall = await page.locator('main svg.chart rect.chart-bar').evaluateAll((rs) => rs.filter((r) => parseFloat(r.getAttribute('height')) > 0).length);
  assert.equal(prevTall, 0, 'the previous month has no usage bars');

  // A malformed month is a 400 page.
  const bad = await page.goto(`/w/${tenant.slug}/billing?month=2024-13`);
  assert.equal(bad.status(), 400);
  await page.goBack();
}));

test('06 an API key is shown once, revoked behind a confirmation, and then refused', T, h.withShot('06-api-keys', async (t, s) => {
  const { tenant, owner } = await h.createTenant({ label: 'keys' });
  const { context, page } = await signedIn(owner);
  t.after(() => context.close());
  s.page = page;
  const keysUrl = `/w/${tenant.slug}/api-keys`;

  await page.goto(keysUrl);
  assert.match(await text(page.locator('main tbody')), /No API keys yet/);
  const keyName = `sync-${h.RUN}`;
  await page.fill('#key-name', keyName);
  await page.check('input[name="scope"][value="usage:write"]');
  const [resp] = await Promise.all([
    page.waitForResponse((r) => r.request().method() === 'POST' && r.url().endsWith(keysUrl)),
    page.getByRole('button', { name: 'Create key' }).click(),
  ]);
  assert.equal(resp.status(), 201);
  await page.waitForLoadState();
  const secret = await page.inputValue('#new-key');
  assert.match(secret, /^tnt_[0-9A-Za-z]{38}$/);
  assert.match(await text(page.locator('#new-key-h')), new RegExp(keyName));
  await h.shot(page, '06-api-keys-created');
  // The page that shows the secret lists the keys too, the new one included.
  const soft = h.softAsserts();
  await soft('the list on the creation page', async () => {
    assert.equal(await page.locator('main table tbody tr', { hasText: keyName }).count(), 1,
      `the new key is listed under "Keys" on the page that shows its secret (the list reads: ${await text(page.locator('main table tbody'))})`);
  });

  // The key works...
  const ok = await h.request('GET', '/api/v1/tenants/current', { token: secret });
  assert.equal(ok.status, 200, `the new key reads its tenant: ${ok.text}`);
  assert.equal(ok.json.id, tenant.id);

  // ...and its secret is never shown again.
  await page.goto(keysUrl);
  const html = await page.content();
  assert.ok(!html.includes(secret), 'the secret is not in the page any more');
  assert.ok(!html.includes(secret.slice(12)), 'no part past the prefix either');
  assert.equal(await page.locator('#new-key').count(), 0);
  const row = page.locator('main table tbody tr', { hasText: keyName });
  assert.equal(await row.count(), 1);
  assert.match(await text(row), /usage:write/);

  // Revoke through the confirmation page.
  await Promise.all([
    page.waitForURL(/\/api-keys\/[0-9a-f-]{36}\/revoke$/),
    row.getByRole('link', { name: /Revoke/ }).click(),
  ]);
  assert.equal(await text(page.locator('main h1')), 'Revoke API key');
  assert.match(await text(page.locator('main')), new RegExp(keyName));
  await h.shot(page, '06-api-keys-confirm');
  await Promise.all([
    page.waitForURL((u) => u.pathname === keysUrl),
    page.getByRole('button', { name: 'Revoke key' }).click(),
  ]);
  assert.equal(await text(page.locator('p.flash')), 'The API key was revoked.');
  const after_ = page.locator('main table tbody tr', { hasText: keyName });
  assert.equal(await text(after_.locator('.badge.over')), 'revoked');
  assert.equal(await after_.getByRole('link', { name: /Revoke/ }).count(), 0, 'no revoke link for a revoked key');

  const refused = await h.request('GET', '/api/v1/tenants/current', { token: secret });
  assert.equal(refused.status, 401, 'a revoked key is refused');
  assert.equal(refused.json?.error?.code, 'unauthenticated');
  soft.done();
}));

test('07 an invitation is sent, mailed, and accepted by a new account in a fresh browser', T, h.withShot('07-invite', async (t, s) => {
  const { tenant, owner } = await h.createTenant({ label: 'invite' });
  const { context, page } = await signedIn(owner);
  t.after(() => context.close());
  s.page = page;
  const email = `${h.uniq('invitee')}@browser.example.test`;

  await page.goto(`/w/${tenant.slug}/members`);
  await page.fill('#invite-email', email);
  await page.selectOption('#invite-role', 'member');
  const [resp] = await Promise.all([
    page.waitForResponse((r) => r.request().method() === 'POST' && r.url().endsWith(`/w/${tenant.slug}/members`)),
    page.getByRole('button', { name: 'Send invitation' }).click(),
  ]);
  assert.equal(resp.status(), 201);
  await page.waitForLoadState();
  assert.match(await text(page.locator('#invited-h')), new RegExp(email.replace(/[.]/g, '\\.')));
  const inviteUrl = await page.inputValue('#invite-url');
  const m = /\/invite\/([A-Za-z0-9_-]{20,})$/.exec(inviteUrl);
  assert.ok(m, `an invitation link: ${inviteUrl}`);
  assert.ok(inviteUrl.startsWith('https://'), 'an absolute https link');
  await h.shot(page, '07-invite-sent');
  // The page that shows the link lists the members and the pending invitation too.
  const soft = h.softAsserts();
  await soft('the members table on the invitation page', async () => {
    assert.match(await text(page.locator('main table tbody')), new RegExp(owner.email.replace(/[.]/g, '\\.')),
      'the members table lists the owner');
  });
  await soft('pending invitations on the invitation page', async () => {
    assert.match(await text(page.locator('section[aria-labelledby="pending-h"]')), new RegExp(email.replace(/[.]/g, '\\.')),
      'the new invitation is under "Pending invitations"');
  });
  // A fresh load does show it.
  await page.goto(`/w/${tenant.slug}/members`);
  assert.match(await text(page.locator('section[aria-labelledby="pending-h"]')), new RegExp(email.replace(/[.]/g, '\\.')));

  // The mail went out, with the link in it.
  const mail = await h.waitForMail(email, 10000);
  assert.ok(mail, `a mail to ${email} in ${h.MAIL_DIR}`);
  assert.ok(mail.text.replace(/=\r?\n/g, '').includes(m[1]), 'the mail carries the invitation token');

  // A stranger's browser: no session.
  const fresh = await h.newContext(browser);
  t.after(() => fresh.close());
  const p2 = s.page = await fresh.newPage();
  const invPath = new URL(inviteUrl).pathname;
  const r2 = await p2.goto(invPath);
  assert.equal(r2.status(), 200);
  assert.equal(await text(p2.locator('main h1')), `Join ${tenant.name}`);
  assert.match(await text(p2.locator('main')), /member/);
  await h.shot(p2, '07-invite-page');
  await p2.fill('#name', 'Invited Person');
  await p2.fill('#password', 'invitee-password-1');
  await Promise.all([
    p2.waitForURL((u) => u.pathname === `/w/${tenant.slug}`),
    p2.getByRole('button', { name: 'Create account and join' }).click(),
  ]);
  assert.equal(await text(p2.locator('main h1')), tenant.name);
  assert.equal(await text(p2.locator('p.flash')), 'Welcome! You joined the workspace.');
  assert.match(await text(p2.locator('.pagehead')), /your role: member/);
  assert.equal(await text(p2.locator('.account .who')), 'Invited Person');

  // The new account signs in with what it chose, and the link is used up.
  const tok = await h.login(email, 'invitee-password-1');
  assert.ok(tok);
  const again = await h.request('GET', invPath, { headers: { Accept: 'text/html' } });
  assert.equal(again.status, 410, 'the invitation link works once');
  soft.done();
}));

test('08 activity filters by action, says when nothing matches, and downloads CSV', T, h.withShot('08-activity', async (t, s) => {
  const { tenant, owner } = await h.createTenant({ label: 'activity' });
  const { context, page } = await signedIn(owner);
  t.after(() => context.close());
  s.page = page;

  // A settings change through the form.
  await page.goto(`/w/${tenant.slug}/settings`);
  await page.fill('#branding_primary_color', '#123456');
  await Promise.all([
    page.waitForURL((u) => u.pathname === `/w/${tenant.slug}/settings`),
    page.getByRole('button', { name: 'Save settings' }).click(),
  ]);
  assert.equal(await text(page.locator('p.flash')), 'Settings saved.');

  // Unfiltered: more than one kind of event (tenant.created at least).
  await page.goto(`/w/${tenant.slug}/activity`);
  const all = (await page.locator('main table tbody td code').allInnerTexts()).map((x) => x.trim());
  assert.ok(all.includes('settings.updated'), `unfiltered: ${all}`);
  assert.ok(all.some((a) => a !== 'settings.updated'), `unfiltered has other actions too: ${all}`);

  await page.fill('#f-action', 'settings.updated');
  await Promise.all([
    page.waitForURL((u) => u.searchParams.get('action') === 'settings.updated'),
    page.getByRole('button', { name: 'Filter' }).click(),
  ]);
  const rows = page.locator('main table tbody tr');
  const actions = (await rows.locator('td code').allInnerTexts()).map((x) => x.trim());
  assert.ok(actions.length >= 1, 'at least one settings.updated row');
  assert.equal(await rows.count(), actions.length, 'every row is an event');
  for (const a of actions) assert.equal(a, 'settings.updated');
  assert.equal(await page.inputValue('#f-action'), 'settings.updated', 'the filter stays in the form');
  await h.shot(page, '08-activity-filtered');

  // The CSV link carries the filter and downloads text/csv.
  const csvLink = page.getByRole('link', { name: 'Download CSV' });
  const href = await csvLink.getAttribute('href');
  assert.match(href, /activity\.csv\?.*action=settings\.updated/);
  const csv = await context.request.get(href);
  assert.equal(csv.status(), 200);
  assert.match(csv.headers()['content-type'] || '', /^text\/csv/);
  const body = await csv.text();
  const lines = body.trim().split(/\r?\n/);
  assert.ok(lines.length >= 2, `a header and a row: ${body.slice(0, 200)}`);
  assert.ok(lines.slice(1).every((l) => l.includes('settings.updated')), 'only the filtered action in the CSV');
  const [download] = await Promise.all([page.waitForEvent('download'), csvLink.click()]);
  const dlPath = await download.path();
  assert.ok(fs.readFileSync(dlPath, 'utf8').includes('settings.updated'), 'the browser downloads the CSV');

  // A filter that matches nothing says so.
  await page.fill('#f-action', 'no.such.action');
  await Promise.all([
    page.waitForURL((u) => u.searchParams.get('action') === 'no.such.action'),
    page.getByRole('button', { name: 'Filter' }).click(),
  ]);
  assert.equal(await page.locator('main table tbody td code').count(), 0);
  assert.equal(await text(page.locator('main table tbody td.empty')), 'No events match.');
}));

test('09 a viewer reads settings only and is refused billing and writes', T, h.withShot('09-viewer', async (t, s) => {
  const { tenant } = await h.createTenant({ label: 'viewer' });
  const viewer = await h.addMember(tenant, 'viewer');
  const { context, page } = await signedIn(viewer);
  t.after(() => context.close());
  s.page = page;

  const resp = await page.goto(`/w/${tenant.slug}/settings`);
  assert.equal(resp.status(), 200);
  assert.equal(await page.inputValue('#name'), tenant.name);
  const fields = page.locator('form.settings input:not([type="hidden"]), form.settings textarea, form.settings select');
  const n = await fields.count();
  assert.ok(n >= 3, `the form has fields (${n})`);
  for (let i = 0; i < n; i++) {
    assert.equal(await fields.nth(i).isDisabled(), true, `field ${await fields.nth(i).getAttribute('name')} is disabled`);
  }
  assert.equal(await page.locator('form.settings button[type="submit"]').count(), 0, 'no Save button');
  assert.equal(await page.getByRole('button', { name: /save/i }).count(), 0);
  assert.match(await text(page.locator('main .note')), /only admins and owners/);
  // Sensitive settings are not even shown to a viewer.
  assert.equal(await page.locator('#security_session_timeout_minutes').count(), 0);
  assert.equal(await page.locator('#notifications_webhook_url').count(), 0);

  const tabs = (await page.locator('nav.tabs a').allInnerTexts()).map((x) => x.trim());
  assert.deepEqual(tabs, ['Overview', 'Settings', 'Members']);
  for (const hidden of ['Billing', 'API keys', 'Activity']) {
    assert.equal(await page.locator('nav.tabs').getByRole('link', { name: hidden }).count(), 0, `no ${hidden} tab`);
  }

  // A POST with the viewer's own valid CSRF token is still refused.
  const csrf = await h.csrfOf(page);
  const version = await page.locator('input[name="version"]').getAttribute('value');
  const post = await page.request.post(`/w/${tenant.slug}/settings`, {
    form: { csrf_token: csrf, version: version || '', name: 'Viewer Was Here', branding_primary_color: '#ff0000', security_session_timeout_minutes: '60' },
    maxRedirects: 0,
  });
  assert.equal(post.status(), 403);
  // Refused for the role, not for the token: the token was good.
  assert.match(await post.text(), /admin or owner/);
  const got = await h.api('GET', `/api/v1/tenants/${tenant.id}`, { token: await h.adminToken() }, 200);
  assert.equal(got.name, tenant.name, 'nothing changed');

  // Pages a viewer may not use answer 403 with a page that says so.
  for (const p of ['billing', 'api-keys', 'activity']) {
    const r = await page.goto(`/w/${tenant.slug}/${p}`);
    assert.equal(r.status(), 403, `/w/${tenant.slug}/${p}`);
    assert.match(await text(page.locator('main h1')), /don.t have access/i);
    if (p === 'billing') await h.shot(page, '09-viewer-billing-403');
  }
  await page.goto(`/w/${tenant.slug}/settings`);
}));

test('10 CSRF: a form without its token, or from another Origin, is 403 and changes nothing', T, h.withShot('10-csrf', async (t, s) => {
  const { tenant, owner } = await h.createTenant({ label: 'csrf' });
  const { context, page } = await signedIn(owner);
  t.after(() => context.close());
  s.page = page;
  const url = `/w/${tenant.slug}/settings`;
  await page.goto(url);
  const csrf = await h.csrfOf(page);
  const version = await page.locator('input[name="version"]').getAttribute('value');
  const form = (extra) => ({
    version: version || '', name: 'Forged Name', branding_primary_color: '#ff0000',
    security_session_timeout_minutes: '60', notifications_email_enabled: 'on', ...extra,
  });
  const nameNow = async () => (await h.api('GET', `/api/v1/tenants/${tenant.id}`, { token: await h.adminToken() }, 200)).name;

  const noToken = await context.request.post(url, { form: form({}), maxRedirects: 0 });
  assert.equal(noToken.status(), 403, 'no csrf_token');
  assert.match(await noToken.text(), /not sent from this site/);
  assert.equal(await nameNow(), tenant.name);

  const wrongToken = await context.request.post(url, { form: form({ csrf_token: 'x'.repeat(csrf.length) }), maxRedirects: 0 });
  assert.equal(wrongToken.status(), 403, 'a wrong csrf_token');

  const otherOrigin = await context.request.post(url, {
    form: form({ csrf_token: csrf }), headers: { Origin: 'https://evil.example' }, maxRedirects: 0,
  });
  assert.equal(otherOrigin.status(), 403, 'a valid token from another Origin');
  assert.match(await otherOrigin.text(), /sent from another site/);
  assert.equal(await nameNow(), tenant.name);
  const st = await h.api('GET', '/api/v1/tenants/current/settings', { token: await h.adminToken(), headers: { 'X-Tenant-ID': tenant.id } }, 200);
  assert.equal(st.settings.branding.primary_color, '#000000', 'the colour did not change');

  // Sign-out is a form too.
  const logout = await context.request.post('/logout', { form: {}, maxRedirects: 0 });
  assert.equal(logout.status(), 403, 'POST /logout without the token');

  // The control: the same request with its token and our own Origin is accepted.
  const good = await context.request.post(url, {
    form: form({ csrf_token: csrf }), headers: { Origin: h.BASE }, maxRedirects: 0,
  });
  assert.equal(good.status(), 303, 'the same form with its token and this site\'s Origin');
  // Read by another principal (the superadmin) on GET /tenants/{id}, an
  // answer a worker may hold in its cache: SPEC §2 lets it lag the commit by
  // the propagation bound (p99 100 ms, never 2 s; revocation.bats measures
  // it), and this read comes a millisecond after the 303. So: the new name,
  // within the bound.
  const t0 = Date.now();
  let name = await nameNow();
  while (name !== 'Forged Name' && Date.now() - t0 < 2000) {
    await new Promise((r) => setTimeout(r, 20));
    name = await nameNow();
  }
  assert.equal(name, 'Forged Name', `the saved name, read back within 2 s (${Date.now() - t0} ms)`);
  await page.goto(url);
}));

test('11 after signing out, Back does not show the workspace', T, h.withShot('11-logout-back', async (t, s) => {
  const { tenant, owner } = await h.createTenant({ label: 'logout', name: `Private Co ${h.RUN}` });
  const { context, page } = await signedIn(owner);
  t.after(() => context.close());
  s.page = page;
  const url = `/w/${tenant.slug}/settings`;

  const r = await page.goto(url);
  assert.match(r.headers()['cache-control'] || '', /no-store/);
  assert.equal(await page.inputValue('#name'), tenant.name);

  await Promise.all([
    page.waitForURL((u) => u.pathname === '/login'),
    page.getByRole('button', { name: 'Sign out' }).click(),
  ]);
  assert.equal(await text(page.locator('p.flash')), 'You are signed out.');

  await page.goBack({ waitUntil: 'load' });
  await page.waitForLoadState('load');
  await h.shot(page, '11-logout-back-after-back');
  const u = new URL(page.url());
  const html = await page.content();
  assert.ok(!html.includes(tenant.name), `the workspace name is not shown after Back (at ${page.url()})`);
  assert.equal(u.pathname, '/login', `Back lands on the sign-in page (at ${page.url()})`);
  assert.equal(u.searchParams.get('next'), url, 'with the page to return to');
  assert.equal(await page.locator('#name').count(), 0, 'no settings form');

  // The old session is dead server-side too.
  const again = await context.request.get(url, { maxRedirects: 0 });
  assert.equal(again.status(), 303);
  assert.match(again.headers().location || '', /^\/login/);

  // Signing in again from there returns to the page that was asked for.
  await page.fill('#email', owner.email);
  await page.fill('#password', owner.password);
  await Promise.all([
    page.waitForURL((x) => x.pathname === url),
    page.getByRole('button', { name: 'Sign in' }).click(),
  ]);
  assert.equal(await page.inputValue('#name'), tenant.name);
}));

test('12 phone width: overview and billing do not overflow 375 px', T, h.withShot('12-phone-width', async (t, s) => {
  const { tenant, owner } = await h.createTenant({ label: 'phone', name: `Phone Width Workspace ${h.RUN}` });
  const tt = await h.tenantToken(owner, tenant);
  await h.api('POST', '/api/v1/usage/events', {
    token: tt,
    body: { events: [
      { meter: 'tokens', quantity: 7654321, idempotency_key: `p1-${h.RUN}` },
      { meter: 'api_calls', quantity: 1234567, idempotency_key: `p2-${h.RUN}` },
    ] },
  }, 202);
  const { context, page } = await signedIn(owner, { viewport: { width: 375, height: 740 }, isMobile: true, hasTouch: true });
  t.after(() => context.close());
  s.page = page;

  const widths = {};
  for (const [name, p] of [['overview', `/w/${tenant.slug}`], ['billing', `/w/${tenant.slug}/billing`]]) {
    const r = await page.goto(p);
    assert.equal(r.status(), 200);
    await page.waitForLoadState('load');
    const m = await page.evaluate(() => ({
      scroll: document.documentElement.scrollWidth,
      body: document.body.scrollWidth,
      inner: window.innerWidth,
    }));
    widths[name] = m;
    await h.shot(page, `12-phone-width-${name}`);
    assert.equal(m.inner, 375, 'the viewport is 375 px wide');
    assert.ok(m.scroll <= 375, `${name}: documentElement.scrollWidth ${m.scroll} <= 375`);
    assert.ok(m.body <= 375, `${name}: body.scrollWidth ${m.body} <= 375`);
  }
  t.diagnostic(JSON.stringify(widths));
}));
