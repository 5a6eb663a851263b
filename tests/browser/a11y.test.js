'use strict';
// a11y.test.js -- axe-core on every page of the dashboard, in each role's
// view that has its own markup (signed out, owner, superadmin, viewer), and
// in the states that add markup (a form with errors, a new key's secret, a
// new invitation link, error pages).  Fails on any violation of impact
// "serious" or "critical"; lesser ones are printed as diagnostics.

const { test, before, after } = require('node:test');
const assert = require('node:assert/strict');
const h = require('./helpers');

let browser;
before(async () => { browser = await h.launch(); });
after(async () => { if (browser) await browser.close(); });

test('13 accessibility: axe-core finds no serious or critical violation on any page, at 1280 and 390 px and in dark mode', { timeout: 400000 }, h.withShot('13-accessibility', async (t, s) => {
  // ---- data: a workspace with usage, a key, a second member, an open invitation
  const { tenant, owner } = await h.createTenant({ label: 'a11y', name: `Accessible Co ${h.RUN}` });
  const member = await h.addMember(tenant, 'member');
  const viewer = await h.addMember(tenant, 'viewer');
  const tt = await h.tenantToken(owner, tenant);
  await h.api('POST', '/api/v1/usage/events', {
    token: tt,
    body: { events: [
      { meter: 'tokens', quantity: 4200000, idempotency_key: `a1-${h.RUN}` },
      { meter: 'api_calls', quantity: 900, idempotency_key: `a2-${h.RUN}` },
    ] },
  }, 202);
  const key = await h.api('POST', `/api/v1/tenants/${tenant.id}/api-keys`, {
    token: tt, body: { name: `a11y-key-${h.RUN}`, scopes: ['read'] },
  }, 201);
  const invitee = `${h.uniq('a11y-invitee')}@browser.example.test`;
  const inv = await h.api('POST', `/api/v1/tenants/${tenant.id}/users/invite`, {
    token: tt, body: { email: invitee, role: 'member' },
  }, 201);
  const w = `/w/${tenant.slug}`;

  const results = []; // {name, url, status, violations}
  async function check(mode, page, base, url, expectStatus, action) {
    const name = `${base}-${mode.tag}`;
    let status = null;
    if (url) {
      const r = await page.goto(url);
      status = r ? r.status() : null;
    }
    if (action) status = await action(page);
    await page.waitForLoadState('load');
    if (expectStatus != null) assert.equal(status, expectStatus, `${name}: HTTP ${status} (expected ${expectStatus}) at ${page.url()}`);
    const violations = await h.runAxe(page);
    const m = await page.evaluate(() => ({
      scroll: document.documentElement.scrollWidth, inner: window.innerWidth,
      dark: matchMedia('(prefers-color-scheme: dark)').matches,
    }));
    const layout = [];
    if (m.scroll > m.inner) layout.push(`scrollWidth ${m.scroll} > ${m.inner}: the page scrolls sideways`);
    if (m.dark !== (mode.tag === 'dark')) layout.push(`prefers-color-scheme dark is ${m.dark}`);
    results.push({ name, url: new URL(page.url()).pathname + new URL(page.url()).search, status, violations, layout });
    await h.shot(page, `13-accessibility-${name}`);
  }
  // Submit a form and report the status of the POST's response.
  const submit = (buttonName, urlPart) => async (page) => {
    const [resp] = await Promise.all([
      page.waitForResponse((r) => r.request().method() === 'POST' && r.url().includes(urlPart)),
      page.getByRole('button', { name: buttonName }).click(),
    ]);
    await page.waitForLoadState('load');
    return resp.status();
  };

  // ---- the harness itself: axe runs in these pages and does find problems
  const probeCtx = await h.newContext(browser);
  t.after(() => probeCtx.close());
  const probe = await probeCtx.newPage();
  await probe.goto('/login');
  await probe.evaluate(() => {
    const img = document.createElement('img');
    img.src = 'data:,';
    document.querySelector('main').appendChild(img);
  });
  const planted = await h.runAxe(probe);
  assert.ok(planted.some((v) => v.id === 'image-alt'), `axe runs under the page's CSP and sees a planted <img> without alt: ${JSON.stringify(planted.map((v) => v.id))}`);

  // Every view in three modes: a desktop, a phone (390 px: nothing wider
  // than the screen) and the desktop in dark mode (the dark palette's
  // contrast is checked by axe like the light one's).
  const MODES = [
    { tag: '1280', opts: { viewport: { width: 1280, height: 800 } } },
    { tag: '390', opts: { viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true } },
    { tag: 'dark', opts: { viewport: { width: 1280, height: 800 }, colorScheme: 'dark' } },
  ];
  for (const mode of MODES) {
    // ---- signed out
    const anon = await h.newContext(browser, mode.opts);
    t.after(() => anon.close());
    const pa = s.page = await anon.newPage();
    await check(mode, pa, 'login', '/login', 200);
    await check(mode, pa, 'login-error', null, 401, async (page) => {
      await page.fill('#email', owner.email);
      await page.fill('#password', 'not-the-password');
      return submit('Sign in', '/login')(page);
    });
    await check(mode, pa, 'invite', new URL(inv.invite_url).pathname, 200);
    await check(mode, pa, 'not-found-signed-out', '/no-such-page', 404);

    // ---- the owner
    const oc = await h.newContext(browser, mode.opts);
    t.after(() => oc.close());
    const po = s.page = await oc.newPage();
    await h.signIn(po, owner);
    await check(mode, po, 'dashboard', '/dashboard', 200);
    await check(mode, po, 'account', '/account', 200);
    await check(mode, po, 'overview', w, 200);
    await check(mode, po, 'settings', `${w}/settings`, 200);
    await check(mode, po, 'settings-invalid', null, 422, async (page) => {
      await page.fill('#branding_primary_color', 'blue');
      await page.fill('#security_session_timeout_minutes', '3');
      return submit('Save settings', `${w}/settings`)(page);
    });
    await check(mode, po, 'billing', `${w}/billing`, 200);
    await check(mode, po, 'api-keys', `${w}/api-keys`, 200);
    await check(mode, po, 'api-keys-created', null, 201, async (page) => {
      await page.fill('#key-name', `a11y-ui-key-${h.RUN}`);
      return submit('Create key', `${w}/api-keys`)(page);
    });
    await check(mode, po, 'api-key-revoke', `${w}/api-keys/${key.id}/revoke`, 200);
    await check(mode, po, 'members', `${w}/members`, 200);
    await check(mode, po, 'members-invited', null, 201, async (page) => {
      await page.fill('#invite-email', `${h.uniq('a11y-ui-invitee')}@browser.example.test`);
      return submit('Send invitation', `${w}/members`)(page);
    });
    await check(mode, po, 'member-remove', `${w}/members/${member.id}/remove`, 200);
    await check(mode, po, 'activity', `${w}/activity`, 200);
    await check(mode, po, 'activity-empty', `${w}/activity?action=no.such.action`, 200);
    await check(mode, po, 'not-found', `${w}/api-keys/00000000-0000-4000-8000-000000000000/revoke`, 404);
    await check(mode, po, 'bad-month', `${w}/billing?month=2024-13`, 400);

    // ---- a viewer: read-only settings, the 403 page
    const vc = await h.newContext(browser, mode.opts);
    t.after(() => vc.close());
    const pv = s.page = await vc.newPage();
    await h.signIn(pv, viewer);
    await check(mode, pv, 'settings-read-only', `${w}/settings`, 200);
    await check(mode, pv, 'forbidden', `${w}/billing`, 403);

    // ---- the superadmin
    const ac = await h.newContext(browser, mode.opts);
    t.after(() => ac.close());
    const pad = s.page = await ac.newPage();
    await h.signIn(pad, h.ADMIN);
    await check(mode, pad, 'admin-tenants', '/admin/tenants', 200);
    await check(mode, pad, 'admin-tenants-search', `/admin/tenants?q=${encodeURIComponent(tenant.slug)}&tier=business`, 200);
  }

  // ---- report
  let bad = 0;
  const report = [];
  for (const r of results) {
    const serious = h.seriousOnly(r.violations);
    const lesser = r.violations.filter((v) => !serious.includes(v));
    bad += serious.length + r.layout.length;
    if (serious.length) report.push(`${r.name} (${r.url}, HTTP ${r.status}):\n${h.formatViolations(serious)}`);
    if (r.layout.length) report.push(`${r.name} (${r.url}): ${r.layout.join('; ')}`);
    if (lesser.length) t.diagnostic(`${r.name}: minor/moderate: ${lesser.map((v) => `${v.id}(${v.impact}) ${v.targets.join(', ')}`).join('; ')}`);
  }
  t.diagnostic(`axe-core checked ${results.length} pages: ${results.map((r) => r.name).join(', ')}`);
  if (report.length) console.log(`serious/critical axe violations:\n${report.join('\n')}`);
  assert.equal(bad, 0, `serious/critical axe violations:\n${report.join('\n')}`);
}));

// The billing page (its charts and totals now kept in the worker's cache) and
// the overview, at a desktop and a phone width, in light and dark mode: no
// serious or critical axe violation, nothing wider than the viewport, and
// the page read twice (the second time from the cache) is the same page.
test('14 billing and overview at 1280 and 390 px, light and dark: axe clean, no overflow, cached page identical', { timeout: 120000 }, h.withShot('14-billing-sizes', async (t, s) => {
  const { tenant, owner } = await h.createTenant({ label: 'sizes', name: `Sizes Co ${h.RUN}` });
  const tt = await h.tenantToken(owner, tenant);
  await h.api('POST', '/api/v1/usage/events', {
    token: tt,
    body: { events: [
      { meter: 'tokens', quantity: 730000, idempotency_key: `s1-${h.RUN}` },
      { meter: 'api_calls', quantity: 420, idempotency_key: `s2-${h.RUN}` },
      { meter: 'storage_mb', quantity: 80, idempotency_key: `s3-${h.RUN}` },
    ] },
  }, 202);
  const problems = [];
  for (const [width, height] of [[1280, 900], [390, 844]]) {
    for (const colorScheme of ['light', 'dark']) {
      const context = await h.newContext(browser, { viewport: { width, height }, colorScheme,
        isMobile: width < 500, hasTouch: width < 500 });
      try {
        const page = await context.newPage();
        s.page = page;
        await h.signIn(page, owner);
        for (const [name, url] of [['billing', `/w/${tenant.slug}/billing`], ['overview', `/w/${tenant.slug}`]]) {
          const first = await page.goto(url);
          assert.equal(first.status(), 200, `${name} at ${width} px ${colorScheme}`);
          const main1 = await page.locator('main').innerHTML();
          const again = await page.goto(url);
          assert.equal(again.status(), 200);
          const main2 = await page.locator('main').innerHTML();
          // The flash and nothing else may differ; the request id is in the footer, not main.
          if (main1 !== main2) problems.push(`${name} ${width}px ${colorScheme}: the second read differs`);
          const m = await page.evaluate(() => ({
            scroll: document.documentElement.scrollWidth, inner: window.innerWidth,
            dark: matchMedia('(prefers-color-scheme: dark)').matches,
          }));
          if (m.scroll > m.inner) problems.push(`${name} ${width}px ${colorScheme}: scrollWidth ${m.scroll} > ${m.inner}`);
          if (m.dark !== (colorScheme === 'dark')) problems.push(`${name}: prefers-color-scheme is not ${colorScheme}`);
          const bad = h.seriousOnly(await h.runAxe(page));
          if (bad.length) problems.push(`${name} ${width}px ${colorScheme}:\n${h.formatViolations(bad)}`);
          await h.shot(page, `14-${name}-${width}-${colorScheme}`);
        }
      } finally {
        await context.close();
      }
    }
  }
  s.page = null;
  assert.deepEqual(problems, []);
}));
