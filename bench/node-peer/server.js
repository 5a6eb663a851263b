'use strict';
// bench/node-peer/server.js -- case (n) of `bench/run --fast`: the peer that
// tenantry's fast authenticated read is compared with.  A conventional Node
// service doing the same work for the same request:
//
//   GET /api/v1/tenants/current/usage  Authorization: Bearer <tenant JWT>
//
//   1. verify the JWT like tenantry (src/auth/jwt.c): HS256 only (pinned),
//      key = the bytes of TENANTRY_JWT_SECRET_FILE minus one trailing
//      newline, iss = TENANTRY_JWT_ISSUER (default "tenantry"), aud
//      "tenantry:tenant", integer exp and iat required, 30 s of clock skew
//      (exp, nbf, and an iat in the future), sub and tenant_id UUIDs;
//   2. the membership query: the caller's role in the token's tenant and the
//      tenant's tier (none: 403, as tenantry answers a non-member);
//   3. the tenant's usage: the very statement tenantry runs for this route
//      when its meter catalog is cached (ST_USAGE_FACTS in src/db/stmt.c:
//      the tenant's period totals, gauges, overrides and member count, plain
//      rows), combined with the catalog of every tier's meters and limits
//      that the peer keeps in memory and re-reads every 2 s;
//   4. the same JSON body as tenantry (tenant_id, the flat *_count /
//      *_limit fields, meters{kind, used, limit, percentage, period,
//      period_start, period_end, unit}).
//
// Row-level security.  The peer connects with the stack's conninfo as the
// application role tenantry_app, like the C worker, so FORCEd RLS applies
// (sql/001_schema.sql): tenant_users rows are visible only when
// tenantry.tenant_id or tenantry.user_id say so, usage rows only in the
// tenant's context, and without those settings every query sees nothing.
// The worker sets them with set_config(..., true) inside a pipelined
// transaction.  node-postgres has no pipelining, and BEGIN / COMMIT around
// the two queries would add two round trips, so the peer instead sets them
// session-level (set_config(..., false)) in the membership query itself, on
// the pool client that then runs the usage query, and releases the client
// afterwards.  Every request overwrites both settings in its first
// statement before anything else runs on that client, so a value left on a
// pooled connection never decides a later request.  Order inside that
// statement: both subqueries are fenced with OFFSET 0 (not flattened), and
// the LATERAL one reads ctx's columns, so the plan is a nested loop with
// ctx (the set_config calls) outside: tenant_users is scanned -- its
// policy's current_setting() evaluated -- only after the settings are in
// place (checked with EXPLAIN ANALYZE on PostgreSQL 15, custom and generic
// plans, with another tenant's settings left on the connection).  Without
// the inner fence the planner may flatten it into a hash join whose
// tenant_users scan can start before the settings are made.  The WHERE
// pins the exact (tenant, user) row in any case, so a stale setting could
// only hide the row (a wrong 403), never show another tenant's.
//
// Why this is a fair peer and not a handicapped one: two round trips per
// request (the fewest node-postgres can do for "check membership, then
// read"; no transaction statements), named prepared statements (parsed
// and planned once per connection, as the worker prepares once), a pg.Pool
// of PEER_POOL_SIZE (8) connections per process and PEER_WORKERS (2)
// node:cluster processes (the machine has 2 cores), keep-alive from nginx
// (upstream keepalive), fastify with its logger off, no per-request
// allocation beyond what the libraries do.  It does less than tenantry: no
// rate-limit counting, no request id, no access log of its own.
//
// Environment: TENANTRY_DATABASE_URL (libpq key=value conninfo, e.g. the
// stack's "host=/dir port=N dbname=tenantry user=tenantry_app"),
// TENANTRY_JWT_SECRET_FILE, TENANTRY_JWT_ISSUER, PEER_PORT (required;
// 127.0.0.1 only), PEER_WORKERS (2), PEER_POOL_SIZE (8), PEER_PID_FILE (the
// primary writes one PID per line there -- itself, then each worker --
// once every worker listens).  SIGTERM / SIGINT to the primary stop the
// workers and then the primary.

const cluster = require('node:cluster');
const fs = require('node:fs');

const WORKERS = intEnv('PEER_WORKERS', 2);
const POOL_SIZE = intEnv('PEER_POOL_SIZE', 8);
const PORT = intEnv('PEER_PORT', 0);

function intEnv(name, dflt) {
    const v = process.env[name];
    if (v === undefined || v === '') return dflt;
    if (!/^[0-9]+$/.test(v)) fail(`${name} must be a number`);
    return Number(v);
}

function fail(msg) {
    process.stderr.write(`node-peer: ${msg}\n`);
    process.exit(1);
}

if (!(PORT > 0 && PORT < 65536)) fail('PEER_PORT is required');

if (cluster.isPrimary) {
    primary();
} else {
    // After the whole module is read (the statements below are consts).
    setImmediate(() => worker().catch((e) => fail(`worker: ${e.stack || e}`)));
}

// ---- primary: fork, record PIDs, stop the workers on SIGTERM --------------

function primary() {
    const pidFile = process.env.PEER_PID_FILE || '';
    let listening = 0;
    let stopping = false;

    for (let i = 0; i < WORKERS; i++) cluster.fork();
    cluster.on('listening', () => {
        if (++listening !== WORKERS || pidFile === '') return;
        const pids = [process.pid, ...Object.values(cluster.workers).map((w) => w.process.pid)];
        fs.writeFileSync(`${pidFile}.tmp`, pids.join('\n') + '\n');
        fs.renameSync(`${pidFile}.tmp`, pidFile);
    });
    // A worker that dies is not replaced: the bench should see it fail.
    cluster.on('exit', (w, code, sig) => {
        if (!stopping) process.stderr.write(`node-peer: worker ${w.process.pid} exited (${sig || code})\n`);
        if (Object.keys(cluster.workers).length === 0) process.exit(stopping ? 0 : 1);
    });
    const stop = () => {
        if (stopping) return;
        stopping = true;
        for (const w of Object.values(cluster.workers)) w.process.kill('SIGTERM');
        setTimeout(() => {
            for (const w of Object.values(cluster.workers)) w.process.kill('SIGKILL');
            process.exit(0);
        }, 5000).unref();
    };
    process.on('SIGTERM', stop);
    process.on('SIGINT', stop);
}

// ---- worker ----------------------------------------------------------------

// libpq key=value conninfo -> node-postgres config (host may be a socket dir).
function parseConninfo(s) {
    const out = {};
    const re = /\s*([A-Za-z_]+)\s*=\s*(?:'((?:[^'\\]|\\.)*)'|(\S+))/gy;
    let m;
    while ((m = re.exec(s)) !== null) {
        out[m[1]] = m[2] !== undefined ? m[2].replace(/\\(.)/g, '$1') : m[3];
    }
    if (re.lastIndex !== 0 && s.slice(re.lastIndex).trim() !== '') fail('cannot parse TENANTRY_DATABASE_URL');
    return {
        host: out.host,
        port: out.port ? Number(out.port) : undefined,
        database: out.dbname,
        user: out.user,
        password: out.password,
    };
}

// Tenantry's ST_METER_CATALOG and ST_USAGE_FACTS (src/db/stmt.c), word for
// word. The catalog (every tier's meters and limits) is read at start and
// again every CATALOG_MS, as a Node service keeps its plan table; a request
// reads only the tenant's own facts ($1 today, $2 the first day of this
// month; the tenant is the one in context) and combines them with it
// exactly as tenantry's src/api/usage.c does.
const CATALOG_MS = 2000;
const CATALOG_SQL =
    'SELECT t.name, m.name, m.kind, m.period, m.unit, m.source, coalesce(tl.max_value, -1), t.grace_percent' +
    ' FROM tiers t CROSS JOIN meters m LEFT JOIN tier_limits tl ON tl.tier = t.name AND tl.meter = m.name' +
    ' ORDER BY t.name, m.name';
const FACTS_SQL =
    "SELECT 'p', p.meter, p.period_start::text, p.quantity FROM usage_periods p" +
    '   WHERE p.tenant_id = app.tenant() AND p.period_start IN ($1::date, $2::date)' +
    " UNION ALL SELECT 'g', g.meter, NULL, g.value FROM usage_gauges g WHERE g.tenant_id = app.tenant()" +
    " UNION ALL SELECT 'o', o.meter, NULL, o.max_value FROM tenant_limit_overrides o" +
    '   WHERE o.tenant_id = app.tenant()' +
    " UNION ALL SELECT 'u', NULL, NULL, count(*) FROM tenant_users WHERE tenant_id = app.tenant()";

// The membership, with the RLS context set first (see the header).
const MEMBERSHIP_SQL =
    "SELECT tu.role, tu.tier FROM (SELECT set_config('tenantry.tenant_id', $1, false) AS t," +
    " set_config('tenantry.user_id', $2, false) AS u, set_config('tenantry.superadmin', '', false) OFFSET 0) ctx" +
    ' CROSS JOIN LATERAL (SELECT m.role, t.tier FROM tenant_users m JOIN tenants t ON t.id = m.tenant_id' +
    '   WHERE m.tenant_id = ctx.t::uuid AND m.user_id = ctx.u::uuid OFFSET 0) tu';

const UUID_RE = /^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$/;

const FLAT = [
    ['users_count', 'users', 'users_limit'],
    ['teams_count', 'teams', 'teams_limit'],
    ['conversations_count', 'conversations', 'conversations_limit'],
    ['tokens_used', 'tokens', 'tokens_limit'],
    ['storage_used_mb', 'storage_mb', null],
    ['api_calls_today', 'api_calls', null],
];

function dayString(d) {
    return d.toISOString().slice(0, 10);
}

// core_meter_percentage: hundredths of a percent, rounded half up.
function percentage(used, limit) {
    if (limit < 0) return null;
    if (limit === 0) return 100;
    const u = BigInt(used > 0 ? used : 0);
    const l = BigInt(limit);
    return Number((u * 10000n + l / 2n) / l) / 100;
}

function errorBody(reply, status, code, message) {
    if (status === 401) reply.header('WWW-Authenticate', 'Bearer');
    return reply.code(status).send({ error: { code, message, request_id: null } });
}

async function worker() {
    const Fastify = require('fastify');
    const jwt = require('jsonwebtoken');
    const { Pool } = require('pg');

    const secretFile = process.env.TENANTRY_JWT_SECRET_FILE || fail('TENANTRY_JWT_SECRET_FILE is required');
    let key = fs.readFileSync(secretFile);
    if (key.length > 0 && key[key.length - 1] === 0x0a) key = key.subarray(0, key.length - 1);
    if (key.length < 32) fail('the JWT secret holds fewer than 32 bytes');
    // A KeyObject made once: given a Buffer, jsonwebtoken makes one per call,
    // and OpenSSL 3's decoder lookups behind that were most of the peer's CPU
    // (tenantry likewise keys its HMAC once per worker).
    const secretKey = require('node:crypto').createSecretKey(key);
    const issuer = process.env.TENANTRY_JWT_ISSUER || 'tenantry';
    const verifyOpts = { algorithms: ['HS256'], audience: 'tenantry:tenant', issuer, clockTolerance: 30 };

    const pool = new Pool({
        ...parseConninfo(process.env.TENANTRY_DATABASE_URL || fail('TENANTRY_DATABASE_URL is required')),
        max: POOL_SIZE,
        idleTimeoutMillis: 0,
        application_name: 'tenantry-bench-node-peer',
    });
    pool.on('error', (e) => process.stderr.write(`node-peer: idle client error: ${e.message}\n`));

    // tier -> [{name, kind, period, unit, memberships, limit}] in meter order.
    let catalog = new Map();
    const loadCatalog = async () => {
        const res = await pool.query({ name: 'meter_catalog', text: CATALOG_SQL, rowMode: 'array' });
        const next = new Map();
        for (const [tier, name, kind, period, unit, source, limit] of res.rows) {
            if (!next.has(tier)) next.set(tier, []);
            next.get(tier).push({ name, kind, period, unit, memberships: source === 'memberships', limit: Number(limit) });
        }
        catalog = next;
    };
    await loadCatalog();
    setInterval(() => loadCatalog().catch((e) => process.stderr.write(`node-peer: catalog: ${e.message}\n`)),
        CATALOG_MS).unref();

    const app = Fastify({ logger: false, keepAliveTimeout: 65000 });

    app.get('/health', async () => ({ status: 'ok' }));

    app.get('/api/v1/tenants/current/usage', async (req, reply) => {
        const auth = req.headers.authorization;
        if (typeof auth !== 'string' || !auth.startsWith('Bearer ')) {
            return errorBody(reply, 401, 'unauthenticated', 'authentication required');
        }
        let claims;
        try {
            claims = jwt.verify(auth.slice(7), secretKey, verifyOpts);
        } catch {
            return errorBody(reply, 401, 'unauthenticated', 'invalid token');
        }
        const now = Math.floor(Date.now() / 1000);
        if (!Number.isInteger(claims.exp) || !Number.isInteger(claims.iat) || claims.iat > now + 30 ||
            typeof claims.sub !== 'string' || !UUID_RE.test(claims.sub) ||
            typeof claims.tenant_id !== 'string' || !UUID_RE.test(claims.tenant_id)) {
            return errorBody(reply, 401, 'unauthenticated', 'invalid token');
        }
        const tid = claims.tenant_id.toLowerCase();
        const uid = claims.sub.toLowerCase();

        const today = new Date(now * 1000);
        const monthStart = new Date(Date.UTC(today.getUTCFullYear(), today.getUTCMonth(), 1));
        const monthEnd = new Date(Date.UTC(today.getUTCFullYear(), today.getUTCMonth() + 1, 0));
        const todayS = dayString(today), monthStartS = dayString(monthStart), monthEndS = dayString(monthEnd);

        let client;
        let facts;
        let tier;
        try {
            client = await pool.connect();
            const mem = await client.query({ name: 'membership', text: MEMBERSHIP_SQL, values: [tid, uid] });
            if (mem.rows.length === 0) {
                client.release();
                client = null;
                return errorBody(reply, 403, 'permission_denied', 'not a member of this tenant');
            }
            tier = mem.rows[0].tier;
            const res = await client.query({
                name: 'usage_facts', text: FACTS_SQL, values: [todayS, monthStartS], rowMode: 'array',
            });
            facts = res.rows;
        } catch (e) {
            if (client) client.release(e);
            client = null;
            return errorBody(reply, 503, 'unavailable', 'service temporarily unavailable');
        } finally {
            if (client) client.release();
        }
        const defs = catalog.get(tier);
        if (defs === undefined) return errorBody(reply, 404, 'tenant_not_found', 'no such tenant');

        // The facts on the catalog, as src/api/usage.c combines them.
        let members = 0;
        const over = new Map(), gauge = new Map(), period = new Map();
        for (const [what, meter, start, value] of facts) {
            if (what === 'u') members = Number(value);
            else if (what === 'o') over.set(meter, value === null ? -1 : Number(value));
            else if (what === 'g') gauge.set(meter, Number(value));
            else if (what === 'p') period.set(`${meter} ${start}`, Number(value));
        }
        const byName = new Map();
        const meters = {};
        for (const d of defs) {
            const { name, kind, unit } = d;
            const lim = over.has(name) ? over.get(name) : d.limit;
            const limit = lim < 0 ? -1 : lim;
            const used = d.memberships ? members : kind === 'gauge' ? (gauge.get(name) || 0)
                : (period.get(`${name} ${d.period === 'day' ? todayS : monthStartS}`) || 0);
            const period_ = d.period;
            byName.set(name, { used, limit });
            const p = period_ === 'day' ? 'day' : period_ === 'month' ? 'month' : 'current';
            meters[name] = {
                used,
                limit: limit < 0 ? null : limit,
                percentage: percentage(used, limit),
                period: p,
                unit: unit || '',
                kind: kind === 'gauge' ? 'gauge' : 'counter',
                period_start: p === 'day' ? todayS : p === 'month' ? monthStartS : null,
                period_end: p === 'day' ? todayS : p === 'month' ? monthEndS : null,
            };
        }
        const body = { tenant_id: tid };
        for (const [field, meter, limitField] of FLAT) {
            const m = byName.get(meter);
            body[field] = m ? m.used : 0;
            if (limitField) body[limitField] = m && m.limit >= 0 ? m.limit : null;
        }
        body.meters = meters;
        return reply.header('Cache-Control', 'no-store').send(body);
    });

    const stop = () => {
        app.close().then(() => pool.end()).then(() => process.exit(0), () => process.exit(0));
    };
    process.on('SIGTERM', stop);
    process.on('SIGINT', stop);

    await app.listen({ host: '127.0.0.1', port: PORT });
}
