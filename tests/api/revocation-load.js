'use strict';
// revocation-load.js -- the load driver of revocation.bats (SPEC §2, "the
// bound this must meet"; issue 11). Node built-ins only.
//
//   node revocation-load.js PLAN.json OUT.json
//
// For each phase of the plan, in turn: CLIENTS concurrent clients (one
// keep-alive https.Agent with one socket each, so they are spread over nginx
// and the workers behind it) read in a loop; after warm_ms the driver, in this
// same process and on the same monotonic clock (performance.now()), optionally
// runs drop_cmd (a shell command: the forced drop of the workers' LISTEN
// connections), then makes the phase's change and records when its answer
// arrived; the clients go on for after_ms more. Every request's start time,
// answer time and status are kept, and OUT.json gets, per phase and read,
// the facts revocation.bats asserts on (times in ms relative to the arrival
// of the change's answer; negative = before it):
//
//   before_ok / before_bad        answers that arrived before the change was sent
//   last_ok_start                 start of the last successful request (the propagation)
//   late_ok                       successes started more than bound_ms after the change
//   after_ok / after_refused /    the other answers (in flight across the change, or
//   after_other                   started after it)
//   beyond                        requests started more than bound_ms after the change
//   first_refused                 per client: answer time of its first refusal
//   clients / clients_before_ok / clients_refused / clients_beyond
//   samples                       a few offending requests, for the failure message
//
// PLAN.json: {url, ca, clients, warm_ms, after_ms, bound_ms, drop_cmd?, phases:
// [{name, drop, reads: {NAME: {method, path, headers, ok}}, affected: {NAME:
// {status, code?, location_prefix?, html?}}, controls: N, change: {method,
// path, headers, body?, expect}}]}. Reads named in `affected` must turn into
// that refusal; the others are controls that must stay successful. N clients
// (default 4) read the controls, the rest the affected reads.

const https = require('node:https');
const fs = require('node:fs');
const { performance } = require('node:perf_hooks');
const { execFile } = require('node:child_process');

const plan = JSON.parse(fs.readFileSync(process.argv[2], 'utf8'));
const outFile = process.argv[3];
const base = new URL(plan.url);
const ca = plan.ca ? fs.readFileSync(plan.ca) : undefined;
const REQUEST_TIMEOUT_MS = 5000;
const BODY_KEEP = 8192;

const now = () => performance.now();
const sleep = (ms) => new Promise((res) => setTimeout(res, ms));

function newAgent() {
    return new https.Agent({ keepAlive: true, maxSockets: 1, ca, rejectUnauthorized: true });
}

// One request. Resolves (never rejects) with {start, at, status, code,
// location, ctype, err}; `at` is when the status line arrived.
function request(agent, spec, keepBody) {
    return new Promise((resolve) => {
        const r = { start: now(), at: null, status: 0, code: null, location: null, ctype: null, err: null };
        const headers = Object.assign({}, spec.headers || {});
        let body = null;
        if (spec.body !== undefined && spec.body !== null) {
            body = Buffer.from(spec.body);
            headers['Content-Length'] = body.length;
        }
        let done = false;
        const finish = () => {
            if (!done) {
                done = true;
                if (r.at === null) r.at = now();
                resolve(r);
            }
        };
        const req = https.request({
            host: base.hostname, port: base.port || 443, method: spec.method, path: spec.path,
            headers, agent,
        }, (res) => {
            r.at = now();
            r.status = res.statusCode;
            r.location = res.headers.location || null;
            r.ctype = res.headers['content-type'] || null;
            const keep = keepBody(res.statusCode);
            const chunks = [];
            let n = 0;
            res.on('data', (c) => {
                if (keep && n < BODY_KEEP) {
                    chunks.push(c);
                    n += c.length;
                }
            });
            res.on('end', () => {
                if (keep && r.ctype && r.ctype.startsWith('application/json')) {
                    try {
                        const j = JSON.parse(Buffer.concat(chunks).toString('utf8'));
                        r.code = (j && j.error && j.error.code) || null;
                    } catch (e) {
                        r.code = 'unparsable-json';
                    }
                }
                finish();
            });
            res.on('error', (e) => {
                r.err = String(e.message || e);
                finish();
            });
        });
        req.setTimeout(REQUEST_TIMEOUT_MS, () => req.destroy(new Error(`no answer in ${REQUEST_TIMEOUT_MS} ms`)));
        req.on('error', (e) => {
            r.status = 0;
            r.err = String(e.message || e);
            finish();
        });
        if (body) req.write(body);
        req.end();
    });
}

function runShell(cmd) {
    return new Promise((resolve) => {
        execFile('bash', ['-c', cmd], { timeout: 10000 }, (err, stdout, stderr) => {
            resolve({ err: err ? String(err.message || err) + ' ' + String(stderr).trim() : null, stdout: String(stdout) });
        });
    });
}

function matchesRefusal(rec, want) {
    if (rec.status !== want.status) return false;
    if (want.code !== undefined && rec.code !== want.code) return false;
    if (want.location_prefix !== undefined && !(rec.location || '').startsWith(want.location_prefix)) return false;
    if (want.html && !(rec.ctype || '').startsWith('text/html')) return false;
    return true;
}

const round1 = (x) => (x === null || x === undefined ? null : Math.round(x * 10) / 10);

function sample(rec, t0, why) {
    return {
        why, client: rec.client, start: round1(rec.start - t0), at: round1(rec.at - t0),
        status: rec.status, code: rec.code, location: rec.location, err: rec.err,
    };
}

async function runPhase(ph) {
    const readNames = Object.keys(ph.reads);
    const affected = readNames.filter((n) => ph.affected[n]);
    const controls = readNames.filter((n) => !ph.affected[n]);
    const nClients = plan.clients;
    const nControl = controls.length ? Math.min(ph.controls === undefined ? 4 : ph.controls, nClients - 1) : 0;
    // Client i reads its list round-robin, starting at its own offset.
    const lists = [];
    for (let i = 0; i < nClients; i++) lists.push(i < nClients - nControl ? affected : controls);

    // The change goes over a connection of its own, opened beforehand.
    const changeAgent = newAgent();
    await request(changeAgent, { method: 'GET', path: '/health' }, () => false);

    const agents = lists.map(() => newAgent());
    const recs = [];
    let deadline = Infinity;
    const hardStop = now() + plan.warm_ms + 15000 + plan.after_ms;
    const keepBody = (st) => st !== 200;
    const client = async (i) => {
        const list = lists[i];
        let k = i % list.length;
        while (now() < deadline && now() < hardStop) {
            const name = list[k];
            k = (k + 1) % list.length;
            const rec = await request(agents[i], ph.reads[name], keepBody);
            rec.client = i;
            rec.read = name;
            recs.push(rec);
        }
    };
    const tStart = now();
    const running = lists.map((_, i) => client(i));
    await sleep(plan.warm_ms);

    let drop = null;
    if (ph.drop) {
        const t = now();
        const d = await runShell(plan.drop_cmd);
        drop = {
            ms: round1(now() - t), err: d.err,
            terminated: d.stdout.split('\n').filter((l) => l.trim() === 't').length,
            output: d.stdout.trim().slice(0, 200),
        };
    }
    const change = await request(changeAgent, ph.change, () => true);
    const t0 = change.at;      // the arrival of the change's answer: time zero
    deadline = t0 + plan.after_ms;
    await Promise.all(running);
    const tEnd = now();
    agents.forEach((a) => a.destroy());
    changeAgent.destroy();

    const sent = change.start;
    const bound = plan.bound_ms;
    const reads = {};
    for (const name of readNames) {
        const want = ph.affected[name] || null;
        const mine = recs.filter((r) => r.read === name);
        const clientsOf = new Set(mine.map((r) => r.client));
        const s = {
            affected: !!want, expect: want, requests: mine.length, clients: clientsOf.size,
            before_ok: 0, before_bad: 0, after_ok: 0, after_refused: 0, after_other: 0,
            late_ok: 0, beyond: 0, last_ok_start: null,
            clients_before_ok: 0, clients_refused: 0, clients_beyond: 0,
            first_refused: [], samples: [],
        };
        const okBefore = new Set(), beyondC = new Set(), firstRef = new Map();
        for (const r of mine) {
            const ok = r.status === ph.reads[name].ok;
            const refused = want !== null && matchesRefusal(r, want);
            const rel = r.start - t0;
            if (ok && (s.last_ok_start === null || rel > s.last_ok_start)) s.last_ok_start = rel;
            if (rel > bound) {
                s.beyond++;
                beyondC.add(r.client);
            }
            // Answered before the change was even sent: the old state for sure. A
            // request in flight across the change may get either answer.
            if (r.at < sent) {
                if (ok) {
                    s.before_ok++;
                    okBefore.add(r.client);
                } else {
                    s.before_bad++;
                    if (s.samples.length < 3) s.samples.push(sample(r, t0, 'not a success, answered before the change was sent'));
                }
                continue;
            }
            if (ok) {
                s.after_ok++;
                if (want !== null && rel > bound) {
                    s.late_ok++;
                    if (s.samples.length < 3) s.samples.push(sample(r, t0, `a success started more than ${bound} ms after the change`));
                }
            } else if (refused) {
                s.after_refused++;
                const prev = firstRef.get(r.client);
                if (prev === undefined || r.at < prev) firstRef.set(r.client, r.at);
            } else {
                s.after_other++;
                if (s.samples.length < 3) s.samples.push(sample(r, t0, want ? 'neither a success nor the expected refusal' : 'a control read that did not succeed'));
            }
        }
        s.last_ok_start = round1(s.last_ok_start);
        s.clients_before_ok = okBefore.size;
        s.clients_beyond = beyondC.size;
        s.clients_refused = firstRef.size;
        s.first_refused = [...firstRef.values()].map((at) => round1(at - t0)).sort((a, b) => a - b);
        reads[name] = s;
    }
    return {
        name: ph.name,
        change: {
            method: ph.change.method, path: ph.change.path, expect: ph.change.expect,
            status: change.status, code: change.code, location: change.location, err: change.err,
            ms: round1(change.at - change.start),
        },
        drop,
        clients: nClients, control_clients: nControl,
        requests: recs.length, seconds: round1((tEnd - tStart) / 1000),
        rps: Math.round(recs.length / ((tEnd - tStart) / 1000)),
        after_ms: round1(tEnd - t0),
        reads,
    };
}

function pct(sorted, p) {
    if (!sorted.length) return null;
    return sorted[Math.min(sorted.length, Math.max(1, Math.ceil((p / 100) * sorted.length))) - 1];
}

async function main() {
    const phases = [];
    for (const ph of plan.phases) phases.push(await runPhase(ph));
    const first = [];
    const props = [];
    for (const ph of phases) {
        let worst = null;
        for (const s of Object.values(ph.reads)) {
            if (!s.affected) continue;
            first.push(...s.first_refused);
            if (s.last_ok_start !== null && (worst === null || s.last_ok_start > worst)) worst = s.last_ok_start;
        }
        ph.propagation = worst;
        props.push(worst);
    }
    first.sort((a, b) => a - b);
    const out = {
        phases,
        first_refused: { n: first.length, p50: pct(first, 50), p99: pct(first, 99), max: first.length ? first[first.length - 1] : null },
    };
    fs.writeFileSync(outFile, JSON.stringify(out, null, 1));
}

main().catch((e) => {
    console.error(e && e.stack ? e.stack : e);
    process.exit(1);
});
