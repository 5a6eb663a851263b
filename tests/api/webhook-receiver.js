// webhook-receiver.js: an HTTPS webhook endpoint for the API tests that records each POST as a JSON line.
//
//   node tests/api/webhook-receiver.js --cert CERT --key KEY --out FILE
//        [--port 0] [--status 200] [--fail-first N]
//
// Listens on 127.0.0.1 (port 0: any free one) and prints the port on one line
// once listening. Each POST is appended to FILE, before it is answered, as
// {"path", "headers": {lower-case name: value}, "body": raw body as a string};
// the first N POSTs are answered 500, the rest --status. Other methods get 405
// and are not recorded. Exits 0 on SIGTERM or SIGINT. Node 20, no packages.
'use strict';

const fs = require('node:fs');
const https = require('node:https');
const { parseArgs } = require('node:util');

const BODY_MAX = 1024 * 1024;

function usage(msg) {
	process.stderr.write(`webhook-receiver: ${msg}\n` +
	    'usage: webhook-receiver.js --cert CERT --key KEY --out FILE [--port 0] [--status 200] [--fail-first N]\n');
	process.exit(2);
}

// A whole decimal number in [min, max], or a usage error naming the option.
function int(name, s, min, max) {
	const n = Number(s);

	if (!/^[0-9]+$/.test(s) || n < min || n > max)
		usage(`--${name} must be an integer from ${min} to ${max}`);
	return n;
}

let args;
try {
	args = parseArgs({
		options: {
			cert: { type: 'string' },
			key: { type: 'string' },
			out: { type: 'string' },
			port: { type: 'string', default: '0' },
			status: { type: 'string', default: '200' },
			'fail-first': { type: 'string', default: '0' },
		},
		strict: true,
	}).values;
} catch (e) {
	usage(e.message);
}
for (const k of ['cert', 'key', 'out'])
	if (args[k] === undefined)
		usage(`--${k} is required`);
const port = int('port', args.port, 0, 65535);
const status = int('status', args.status, 200, 599);
let failFirst = int('fail-first', args['fail-first'], 0, 1e9);

let tls;
try {
	tls = { cert: fs.readFileSync(args.cert), key: fs.readFileSync(args.key) };
} catch (e) {
	usage(e.message);
}

const server = https.createServer(tls, (req, res) => {
	const chunks = [];
	let size = 0;

	if (req.method !== 'POST') {
		res.writeHead(405, { allow: 'POST' }).end();
		return;
	}
	req.on('data', (c) => {
		size += c.length;
		if (size > BODY_MAX) {
			res.writeHead(413, { connection: 'close' }).end();
			req.destroy();
		} else {
			chunks.push(c);
		}
	});
	req.on('end', () => {
		const code = failFirst > 0 ? 500 : status;

		if (failFirst > 0)
			failFirst--;
		// Synchronously, so the line is in the file before the client has its answer.
		fs.appendFileSync(args.out, JSON.stringify({
			path: req.url,
			headers: req.headers,
			body: Buffer.concat(chunks).toString('utf8'),
		}) + '\n');
		res.writeHead(code, { 'content-type': 'application/json' }).end(`{"status":${code}}\n`);
	});
});

server.on('tlsClientError', () => {});   // a client that rejects our certificate is a test case, not news
server.listen(port, '127.0.0.1', () => {
	process.stdout.write(`${server.address().port}\n`);
});
for (const sig of ['SIGTERM', 'SIGINT'])
	process.on(sig, () => process.exit(0));
