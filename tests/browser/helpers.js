'use strict';
// helpers.js -- shared fixtures for the browser tests (not a test file).
//
// Everything is read from the environment `scripts/dev test --browser`
// exports (see README.md).  Data is made through the JSON API as the
// superadmin, with a random suffix per run, so the suite can run again and
// again against the same database and its tests do not depend on each
// other's order.

const fs = require('node:fs');
const path = require('node:path');
const https = require('node:https');
const crypto = require('node:crypto');
const assert = require('node:assert/strict');
const { chromium } = require('playwright-core');

function need(name) {
  const v = process.env[name];
  if (!v) throw new Error(`${name} is not set: run the suite with scripts/dev test --browser (see tests/browser/README.md)`);
  return v;
}

const BASE = need('TENANTRY_TEST_URL').replace(/\/+$/, '');
const CA = fs.readFileSync(need('TENANTRY_TEST_CA_FILE'));
const ADMIN = { email: need('TENANTRY_TEST_ADMIN_EMAIL'), password: need('TENANTRY_TEST_ADMIN_PASSWORD') };
const MAIL_DIR = process.env.TENANTRY_TEST_MAIL_DIR || '';
const OUT_DIR = path.join(__dirname, 'output');
const PASSWORD = 'browser-test-pw-1';

// One random tag per process; uniq() adds a counter so names never repeat.
const RUN = crypto.randomBytes(4).toString('hex');
let seq = 0;
function uniq(prefix) {
  seq += 1;
  return `${prefix}-${RUN}-${seq}`;
}

// ---- the JSON API (node's https with the stack's self-signed CA) ------------

// request(method, path, {token, body, headers}) -> {status, headers, text, json}
function request(method, urlPath, opts = {}) {
  const url = new URL(urlPath, BASE);
  const headers = { Accept: 'application/json', ...(opts.headers || {}) };
  let payload = null;
  if (opts.body !== undefined) {
    payload = Buffer.from(JSON.stringify(opts.body));
    headers['Content-Type'] = 'application/json';
    headers['Content-Length'] = payload.length;
  }
  if (opts.token) headers.Authorization = `Bearer ${opts.token}`;
  return new Promise((resolve, reject) => {
    const req = https.request(url, { method, headers, ca: CA, timeout: 15000 }, (res) => {
      const chunks = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        let json = null;
        try { json = text ? JSON.parse(text) : null; } catch { /* not JSON */ }
        resolve({ status: res.statusCode, headers: res.headers, text, json });
      });
    });
    req.on('timeout', () => req.destroy(new Error(`${method} ${urlPath}: timed out`)));
    req.on('error', reject);
    if (payload) req.write(payload);
    req.end();
  });
}

// Like request(), but fails unless the status is the expected one.
async function api(method, urlPath, opts = {}, expect = [200, 201, 202, 204]) {
  const res = await request(method, urlPath, opts);
  const ok = Array.isArray(expect) ? expect.includes(res.status) : res.status === expect;
  if (!ok) throw new Error(`${method} ${urlPath} -> ${res.status}: ${res.text.slice(0, 500)}`);
  return res.json;
}

async function login(email, password) {
  return (await api('POST', '/api/v1/auth/login', { body: { email, password } }, 200)).access_token;
}

// The superadmin's identity token, renewed well before its 15 minutes run out.
let adminTok = null;
let adminTokAt = 0;
async function adminToken() {
  if (!adminTok || Date.now() - adminTokAt > 10 * 60 * 1000) {
    adminTok = await login(ADMIN.email, ADMIN.password);
    adminTokAt = Date.now();
  }
  return adminTok;
}

async function createUser(label = 'user') {
  const email = `${uniq(label)}@browser.example.test`;
  const name = `${label[0].toUpperCase()}${label.slice(1)} ${RUN}`;
  const user = await api('POST', '/api/v1/users', {
    token: await adminToken(), body: { email, password: PASSWORD, name },
  }, 201);
  return { ...user, email, name, password: PASSWORD };
}

// A tenant (tier business unless told) owned by `owner` (made when absent).
async function createTenant({ label = 'ws', name, tier = 'business', owner } = {}) {
  owner = owner || await createUser('owner');
  const slug = uniq(label).toLowerCase();
  const tenant = await api('POST', '/api/v1/tenants', {
    token: await adminToken(),
    body: { name: name || `${label} ${slug.split('-').slice(1).join('-')}`, slug, tier, owner_email: owner.email },
  }, 201);
  return { tenant, owner };
}

// Invite `user` (made when absent) into `tenant` with `role` and accept as them.
async function addMember(tenant, role, user) {
  user = user || await createUser(role);
  const inv = await api('POST', `/api/v1/tenants/${tenant.id}/users/invite`, {
    token: await adminToken(), body: { email: user.email, role },
  }, 201);
  const tok = await login(user.email, user.password);
  await api('POST', '/api/v1/invitations/accept', { token: tok, body: { token: inv.token } }, 200);
  return user;
}

// A tenant-scoped token of `user` for `tenant`.
async function tenantToken(user, tenant) {
  const tok = await login(user.email, user.password);
  return (await api('POST', '/api/v1/auth/tenant-token', { token: tok, body: { tenant_id: tenant.id } }, 200)).access_token;
}

// ---- mail ----------------------------------------------------------------------

function mailFiles() {
  if (!MAIL_DIR || !fs.existsSync(MAIL_DIR)) return [];
  return fs.readdirSync(MAIL_DIR).filter((f) => f.endsWith('.eml')).map((f) => path.join(MAIL_DIR, f));
}

// Wait (bounded) for a mail whose text contains `needle`; its text or null.
async function waitForMail(needle, timeoutMs = 10000) {
  const until = Date.now() + timeoutMs;
  for (;;) {
    for (const f of mailFiles()) {
      let text;
      try { text = fs.readFileSync(f, 'utf8'); } catch { continue; }
      if (text.includes(needle)) return { file: f, text };
    }
    if (Date.now() > until) return null;
    await new Promise((r) => setTimeout(r, 200));
  }
}

// ---- the browser -------------------------------------------------------------------

const CHROMIUM_ARGS = ['--no-sandbox', '--disable-gpu', '--disable-background-networking',
  '--disable-component-update', '--disable-sync', '--no-first-run', '--disable-dev-shm-usage'];

async function launch() {
  return chromium.launch({
    executablePath: process.env.TENANTRY_TEST_CHROMIUM || '/usr/bin/chromium',
    args: CHROMIUM_ARGS,
    timeout: 60000,
  });
}

async function newContext(browser, opts = {}) {
  const ctx = await browser.newContext({
    ignoreHTTPSErrors: true,
    baseURL: BASE,
    viewport: { width: 1280, height: 900 },
    ...opts,
  });
  ctx.setDefaultTimeout(15000);
  ctx.setDefaultNavigationTimeout(20000);
  return ctx;
}

// Sign in through the /login form; resolves once the redirect has landed.
async function signIn(page, user, next) {
  await page.goto(next ? `/login?next=${encodeURIComponent(next)}` : '/login');
  await page.fill('#email', user.email);
  await page.fill('#password', user.password);
  await Promise.all([
    page.waitForURL((u) => u.pathname !== '/login', { timeout: 20000 }),
    page.click('form[action="/login"] button[type="submit"]'),
  ]);
}

// Full-page screenshot to output/<name>.png.
async function shot(page, name) {
  fs.mkdirSync(OUT_DIR, { recursive: true });
  const file = path.join(OUT_DIR, `${name.replace(/[^A-Za-z0-9._-]+/g, '-')}.png`);
  await page.screenshot({ path: file, fullPage: true });
  return file;
}

// A test body that always leaves a screenshot, even when it fails half-way.
function withShot(name, fn) {
  return async (t) => {
    const state = { page: null };
    try {
      await fn(t, state);
    } finally {
      if (state.page && !state.page.isClosed()) {
        await shot(state.page, name).catch(() => {});
      }
    }
  };
}

// Checks that should not stop the rest of a test: soft(() => assert...)
// records a failure, soft.done() throws them all at the end.
function softAsserts() {
  const failures = [];
  const soft = async (label, fn) => {
    try { await fn(); } catch (e) { failures.push(`${label}: ${e.message}`); }
  };
  soft.done = () => {
    if (failures.length) assert.fail(`${failures.length} check(s) failed:\n- ${failures.join('\n- ')}`);
  };
  return soft;
}

// The page's CSRF token (the hidden csrf_token input of its first form).
async function csrfOf(page) {
  const v = await page.locator('input[name="csrf_token"]').first().getAttribute('value');
  assert.ok(v && v.length >= 16, 'the page carries a csrf_token');
  return v;
}

// ---- axe-core -----------------------------------------------------------------------

// The pages send `Content-Security-Policy: script-src 'self'`, so an inline
// <script> (page.addScriptTag({content})) is refused.  page.evaluate() runs
// through the DevTools protocol (Runtime.evaluate), which CSP does not
// govern, so axe's source is evaluated that way: the page keeps its real
// CSP (no bypassCSP context needed) and axe attaches itself to window.axe.
const AXE_SOURCE = fs.readFileSync(require.resolve('axe-core/axe.min.js'), 'utf8');

async function runAxe(page) {
  const has = await page.evaluate(() => typeof window.axe === 'object');
  if (!has) await page.evaluate(AXE_SOURCE);
  const res = await page.evaluate(async () => {
    // eslint-disable-next-line no-undef
    const r = await window.axe.run(document, { resultTypes: ['violations'] });
    return r.violations.map((v) => ({
      id: v.id, impact: v.impact, help: v.help,
      targets: v.nodes.map((n) => n.target.join(' ')),
    }));
  });
  return res;
}

function seriousOnly(violations) {
  return violations.filter((v) => v.impact === 'serious' || v.impact === 'critical');
}

function formatViolations(violations) {
  return violations.map((v) => `  [${v.impact}] ${v.id}: ${v.help}\n      ${v.targets.join('\n      ')}`).join('\n');
}

// "YYYY-MM" of now (UTC) plus delta months.
function monthOf(delta = 0, d = new Date()) {
  const x = new Date(Date.UTC(d.getUTCFullYear(), d.getUTCMonth() + delta, 1));
  return `${x.getUTCFullYear()}-${String(x.getUTCMonth() + 1).padStart(2, '0')}`;
}

module.exports = {
  BASE, ADMIN, PASSWORD, RUN, MAIL_DIR, OUT_DIR,
  uniq, request, api, login, adminToken, createUser, createTenant, addMember, tenantToken,
  mailFiles, waitForMail,
  launch, newContext, signIn, shot, withShot, csrfOf, softAsserts,
  runAxe, seriousOnly, formatViolations, monthOf,
};
