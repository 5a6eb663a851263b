/* webhook.c: outgoing webhooks: signing keys, signatures, URL and address checks, one HTTPS POST. */
#include "net/webhook.h"
#include "core/util.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#define RESPONSE_HEAD_MAX  16384   /* status line, and any interim responses before it */
#define RESPONSE_DRAIN_MAX 65536   /* bytes read in all before closing */
#define RESPONSE_DRAIN_MS  1000    /* and for how long at most */

/* ---- Keys and signatures ------------------------------------------------------------ */

bool
net_webhook_sign(const unsigned char *key, size_t keylen, const char *body, size_t len, char out[72])
{
	unsigned char mac[32];

	if ((body == NULL && len > 0) || !core_hmac_sha256(key, keylen, body, len, "", 0, mac))
		return false;
	memcpy(out, "sha256=", 7);
	core_hex(mac, sizeof(mac), out + 7);
	return true;
}

bool
net_webhook_key(const unsigned char *secret, size_t len, const char *tenant_id, char out[64])
{
	static const char prefix[] = "tenantry-webhook:";
	unsigned char mac[32];
	char b64[48];
	int n;

	if (!core_hmac_sha256(secret, len, prefix, sizeof(prefix) - 1, tenant_id, strlen(tenant_id), mac))
		return false;
	n = EVP_EncodeBlock((unsigned char *)b64, mac, sizeof(mac));   /* 44, the last '=' */
	memcpy(out, "whsec_", 6);
	for (int i = 0; i < n - 1; i++)
		out[6 + i] = b64[i] == '+' ? '-' : b64[i] == '/' ? '_' : b64[i];
	out[6 + n - 1] = '\0';
	OPENSSL_cleanse(mac, sizeof(mac));
	return n == 44;
}

/* ---- URLs ------------------------------------------------------------------------- */

/* A DNS name: dot-separated labels of letters, digits and inner '-', 1..63 each. */
static bool
dns_name_ok(const char *h)
{
	size_t n = 0;

	for (const char *p = h;; p++) {
		if (*p == '.' || *p == '\0') {
			if (n == 0 || n > 63 || p[-1] == '-')
				return false;
			if (*p == '\0')
				return true;
			n = 0;
		} else if (isalnum((unsigned char)*p) || (*p == '-' && n > 0)) {
			n++;
		} else {
			return false;
		}
	}
}

bool
net_webhook_url_parse(const char *url, struct webhook_url *u)
{
	static const char hexd[] = "0123456789ABCDEF";
	const char *auth, *end, *port = NULL, *p;
	unsigned char bin[16];
	size_t n = strlen(url), hl, j = 0;
	bool bracket;

	if (n > WEBHOOK_URL_MAX || strncasecmp(url, "https://", 8) != 0)
		return false;
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)url[i] <= 0x20 || url[i] == 0x7f)
			return false;
	auth = url + 8;
	end = auth + strcspn(auth, "/?#");
	if (memchr(auth, '@', (size_t)(end - auth)) != NULL)
		return false;
	if ((bracket = *auth == '[')) {
		const char *close = memchr(auth, ']', (size_t)(end - auth));

		if (close == NULL || (close + 1 != end && close[1] != ':'))
			return false;
		port = close + 1 != end ? close + 2 : NULL;
		hl = (size_t)(close - auth - 1);
		auth++;
	} else {
		port = memchr(auth, ':', (size_t)(end - auth));
		hl = (size_t)((port != NULL ? port : end) - auth);
		port = port != NULL ? port + 1 : NULL;
	}
	if (hl == 0 || hl > WEBHOOK_HOST_MAX)
		return false;
	for (size_t i = 0; i < hl; i++)
		u->host[i] = (char)tolower((unsigned char)auth[i]);
	u->host[hl] = '\0';

	u->port = 443;
	if (port != NULL) {
		int64_t v;
		char digits[8];
		size_t dl = (size_t)(end - port);

		if (dl == 0 || dl > 5 || !isdigit((unsigned char)*port))
			return false;
		memcpy(digits, port, dl);
		digits[dl] = '\0';
		if (!core_parse_i64(digits, 1, 65535, &v))
			return false;
		u->port = (int)v;
	}

	if (bracket) {
		if (inet_pton(AF_INET6, u->host, bin) != 1)
			return false;
		u->family = AF_INET6;
	} else if (inet_pton(AF_INET, u->host, bin) == 1) {
		u->family = AF_INET;
	} else {
		/* A numeric last label is an address to resolvers (127.1, 0x7f000001): refuse it. */
		const char *last = strrchr(u->host, '.');

		if (!dns_name_ok(u->host) || isdigit((unsigned char)(last ? last[1] : u->host[0])))
			return false;
		u->family = AF_UNSPEC;
	}

	/* The request target: path and query; the fragment is the client's alone. */
	if (*end != '/')
		u->path[j++] = '/';
	for (p = end; *p != '\0' && *p != '#'; p++) {
		if (j + 3 > WEBHOOK_URL_MAX)
			return false;
		if ((unsigned char)*p >= 0x80) {
			u->path[j++] = '%';
			u->path[j++] = hexd[(unsigned char)*p >> 4];
			u->path[j++] = hexd[(unsigned char)*p & 15];
		} else {
			u->path[j++] = *p;
		}
	}
	u->path[j] = '\0';
	return true;
}

/* ---- Addresses -------------------------------------------------------------------- */

struct net {
	unsigned char prefix[16];
	int           bits;
};

/* IPv4 networks that are not the public Internet (RFC 6890 and friends). */
static const struct net v4_closed[] = {
	{ { 0 }, 8 },                    /* "this network", 0.0.0.0 */
	{ { 10 }, 8 },                   /* private */
	{ { 100, 64 }, 10 },             /* carrier-grade NAT */
	{ { 127 }, 8 },                  /* loopback */
	{ { 169, 254 }, 16 },            /* link-local */
	{ { 172, 16 }, 12 },             /* private */
	{ { 192, 0, 0 }, 24 },           /* IETF protocol assignments */
	{ { 192, 0, 2 }, 24 },           /* documentation */
	{ { 192, 168 }, 16 },            /* private */
	{ { 198, 18 }, 15 },             /* benchmarking */
	{ { 198, 51, 100 }, 24 },        /* documentation */
	{ { 203, 0, 113 }, 24 },         /* documentation */
	{ { 224 }, 4 },                  /* multicast */
	{ { 240 }, 4 },                  /* reserved, 255.255.255.255 broadcast */
};

/*
 * IPv6: only global unicast 2000::/3 is open (after the forms that embed an
 * IPv4 address are judged by that address). Outside it lie ::, ::1 and
 * IPv4-compatible addresses, local-use NAT64 64:ff9b:1::/48, discard-only
 * 100::/64, unique local fc00::/7, link-local, site-local, multicast, and
 * every block the IETF keeps reserved (4000::/2, fe00::/9, ...), which a
 * network may route internally. fuzz_webhook_url found 4000::1 and
 * 2001:2::1 (benchmarking) let through by a list of closed blocks alone.
 * Inside it, these special-purpose blocks are closed too:
 */
static const struct net v6_global = { { 0x20 }, 3 };
static const struct net v6_closed[] = {
	{ { 0x20, 0x01, 0x00 }, 23 },    /* IETF protocol assignments: Teredo, benchmarking, ORCHID */
	{ { 0x20, 0x01, 0x0d, 0xb8 }, 32 },   /* documentation */
	{ { 0x3f, 0xff }, 20 },          /* documentation (RFC 9637) */
};

/* Whether address bytes a fall in network n. */
static bool
in_net(const unsigned char *a, const struct net *n)
{
	int full = n->bits / 8, rest = n->bits % 8;

	return memcmp(a, n->prefix, (size_t)full) == 0 &&
	    (rest == 0 || ((a[full] ^ n->prefix[full]) & (0xff << (8 - rest))) == 0);
}

/* Whether the IPv4 address at a (network order) is outside every closed network. */
static bool
v4_public(const unsigned char a[4])
{
	for (size_t i = 0; i < sizeof(v4_closed) / sizeof(v4_closed[0]); i++)
		if (in_net(a, &v4_closed[i]))
			return false;
	return true;
}

bool
net_addr_is_public(const struct sockaddr *sa)
{
	static const struct net mapped = { { [10] = 0xff, [11] = 0xff }, 96 };
	static const struct net nat64 = { { 0x00, 0x64, 0xff, 0x9b }, 96 };
	static const struct net sixtofour = { { 0x20, 0x02 }, 16 };
	const unsigned char *a;

	if (sa->sa_family == AF_INET)
		return v4_public((const unsigned char *)&((const struct sockaddr_in *)(const void *)sa)->sin_addr);
	if (sa->sa_family != AF_INET6)
		return false;
	a = ((const struct sockaddr_in6 *)(const void *)sa)->sin6_addr.s6_addr;
	if (in_net(a, &mapped) || in_net(a, &nat64))
		return v4_public(a + 12);
	if (in_net(a, &sixtofour))
		return v4_public(a + 2);
	if (!in_net(a, &v6_global))
		return false;
	for (size_t i = 0; i < sizeof(v6_closed) / sizeof(v6_closed[0]); i++)
		if (in_net(a, &v6_closed[i]))
			return false;
	return true;
}

/* ---- Delivery --------------------------------------------------------------------- */

/* One exchange; err is the caller's buffer. */
struct conn {
	int     fd;
	SSL    *ssl;
	double  deadline;   /* core_mono_ms() */
	char   *err;
	size_t  errlen;
};

__attribute__((format(printf, 2, 3)))
static int
fail(struct conn *c, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	if (c->errlen > 0)
		vsnprintf(c->err, c->errlen, fmt, ap);
	va_end(ap);
	return -1;
}

/* Wait until fd is writable (or readable) or the deadline passes; errno is ETIMEDOUT then. */
static bool
wait_fd(int fd, bool wr, double deadline)
{
	struct pollfd p = { .fd = fd, .events = wr ? POLLOUT : POLLIN };
	int ms, r;

	do {
		if ((ms = (int)(deadline - core_mono_ms())) <= 0) {
			errno = ETIMEDOUT;
			return false;
		}
	} while ((r = poll(&p, 1, ms)) < 0 && errno == EINTR);
	if (r == 0)
		errno = ETIMEDOUT;
	return r > 0;
}

/* Handle an SSL call's result r <= 0: true once the socket is ready to retry, else false with err set. */
static bool
tls_retry(struct conn *c, int r, const char *what)
{
	int e = SSL_get_error(c->ssl, r);
	long v;
	unsigned long q;

	if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE) {
		if (wait_fd(c->fd, e == SSL_ERROR_WANT_WRITE, c->deadline))
			return true;
		fail(c, "%s: %s", what, strerror(errno));
	} else if ((v = SSL_get_verify_result(c->ssl)) != X509_V_OK) {
		fail(c, "%s: certificate verification failed: %s", what, X509_verify_cert_error_string(v));
	} else if (e == SSL_ERROR_SYSCALL && errno != 0) {
		fail(c, "%s: %s", what, strerror(errno));
	} else {
		q = ERR_peek_last_error();
		fail(c, "%s: TLS error: %s", what, q && ERR_reason_error_string(q) ? ERR_reason_error_string(q) : "unknown");
	}
	return false;
}

/* Connect to the first of the addresses that answers; the socket (non-blocking) or -1. */
static int
dial(struct conn *c, const struct addrinfo *ai)
{
	int e = EHOSTUNREACH;

	for (; ai != NULL; ai = ai->ai_next) {
		int fd = socket(ai->ai_family, ai->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, ai->ai_protocol);
		socklen_t sl = sizeof(e);

		if (fd < 0) {
			e = errno;
			continue;
		}
		if (connect(fd, ai->ai_addr, ai->ai_addrlen) == 0)
			return fd;
		if (errno != EINPROGRESS)
			e = errno;
		else if (!wait_fd(fd, true, c->deadline))
			e = errno;
		else if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &e, &sl) != 0)
			e = errno;
		else if (e == 0)
			return fd;
		close(fd);
	}
	return fail(c, "connect: %s", strerror(e));
}

/* The final status in the n response bytes at b: 0 if more are needed, -1 if malformed. */
static int
status_parse(const char *b, size_t n)
{
	for (;;) {
		const char *eol = memmem(b, n, "\r\n", 2), *end;
		int st;

		if (eol == NULL)
			return 0;
		if (eol - b < 12 || memcmp(b, "HTTP/1.", 7) != 0 || !isdigit((unsigned char)b[7]) ||
		    b[8] != ' ' || !isdigit((unsigned char)b[9]) || !isdigit((unsigned char)b[10]) ||
		    !isdigit((unsigned char)b[11]) || (eol - b > 12 && b[12] != ' '))
			return -1;
		st = (b[9] - '0') * 100 + (b[10] - '0') * 10 + (b[11] - '0');
		if (st < 100 || st > 599)
			return -1;
		if (st >= 200 || st == 101)
			return st;
		if ((end = memmem(b, n, "\r\n\r\n", 4)) == NULL)
			return 0;
		n -= (size_t)(end + 4 - b);   /* skip the interim response */
		b = end + 4;
	}
}

/* Reserved: headers the request sets itself, so a caller cannot make it ambiguous. */
static bool
header_ok(const char *h)
{
	static const char *const own[] = { "host", "content-type", "content-length", "connection",
	    "transfer-encoding", "user-agent" };
	size_t nl = strcspn(h, ":");

	if (nl == 0 || h[nl] != ':' || strpbrk(h, "\r\n") != NULL)
		return false;
	for (size_t i = 0; i < nl; i++)
		if (!isalnum((unsigned char)h[i]) && strchr("!#$%&'*+-.^_`|~", h[i]) == NULL)
			return false;
	for (size_t i = 0; i < sizeof(own) / sizeof(own[0]); i++)
		if (strlen(own[i]) == nl && strncasecmp(h, own[i], nl) == 0)
			return false;
	return true;
}

/* Handshake, request, status; the status or -1 (err set). */
static int
exchange(struct conn *c, const struct webhook_url *u, const char *head, size_t hlen,
    const char *body, size_t len)
{
	const char *parts[2] = { head, body };
	size_t plen[2] = { hlen, len }, got = 0, total, done;
	char resp[RESPONSE_HEAD_MAX];
	int r, st = 0;

	ERR_clear_error();
	if (u->family == AF_UNSPEC) {
		if (!SSL_set_tlsext_host_name(c->ssl, u->host) || !SSL_set1_host(c->ssl, u->host))
			return fail(c, "TLS: cannot set the host name");
	} else if (!X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(c->ssl), u->host)) {
		return fail(c, "TLS: cannot set the address");
	}
	while ((r = SSL_connect(c->ssl)) != 1)
		if (!tls_retry(c, r, "TLS handshake"))
			return -1;
	for (int i = 0; i < 2; i++)
		for (size_t off = 0; off < plen[i]; off += done)
			while (SSL_write_ex(c->ssl, parts[i] + off, plen[i] - off, &done) != 1)
				if (!tls_retry(c, 0, "send"))
					return -1;
	while (st == 0) {
		if (got == sizeof(resp))
			return fail(c, "response: head too long");
		if (SSL_read_ex(c->ssl, resp + got, sizeof(resp) - got, &done) == 1) {
			got += done;
			st = status_parse(resp, got);
		} else if (SSL_get_error(c->ssl, 0) == SSL_ERROR_ZERO_RETURN) {
			return fail(c, "response: closed before the status line");
		} else if (!tls_retry(c, 0, "receive")) {
			return -1;
		}
	}
	if (st < 0)
		return fail(c, "response: malformed status line");
	/*
	 * Read on (bounded, until the deadline at most) so that closing does not
	 * reset the connection under the server. The status is known: a failure
	 * from here on only ends the reading.
	 */
	if (c->deadline > core_mono_ms() + RESPONSE_DRAIN_MS)
		c->deadline = core_mono_ms() + RESPONSE_DRAIN_MS;
	for (total = got; total < RESPONSE_DRAIN_MAX; total += done) {
		done = 0;
		if (SSL_read_ex(c->ssl, resp, sizeof(resp), &done) == 1)
			continue;
		if (SSL_get_error(c->ssl, 0) == SSL_ERROR_ZERO_RETURN) {
			SSL_shutdown(c->ssl);   /* our close_notify; no waiting for it */
			break;
		}
		if (!tls_retry(c, 0, "drain"))
			break;
	}
	if (c->errlen > 0)
		c->err[0] = '\0';
	return st;
}

int
net_webhook_post(const struct webhook_opts *o, const char *url, const char *const *headers,
    const char *body, size_t len, char *err, size_t errlen)
{
	static const struct webhook_opts dflt = { NULL, false, 0 };
	struct conn c = { .fd = -1, .err = err, .errlen = errlen };
	struct addrinfo hints = { .ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM }, *res = NULL;
	struct webhook_url u;
	char port[8], *head = NULL;
	size_t hlen = 0;
	SSL_CTX *ctx = NULL;
	FILE *f;
	sigset_t pipe_set, old, pending;
	bool pipe_was_pending;
	int st = -1, r;

	if (errlen > 0)
		err[0] = '\0';
	o = o != NULL ? o : &dflt;
	c.deadline = core_mono_ms() + (o->timeout_ms > 0 ? o->timeout_ms : 10000);
	if (url == NULL || !net_webhook_url_parse(url, &u))
		return fail(&c, "not an https:// URL with a valid host");
	if (body == NULL && len > 0)
		return fail(&c, "no body");
	for (const char *const *h = headers; h != NULL && *h != NULL; h++)
		if (!header_ok(*h))
			return fail(&c, "header %d is malformed or reserved", (int)(h - headers) + 1);

	hints.ai_flags = AI_NUMERICSERV | (u.family != AF_UNSPEC ? AI_NUMERICHOST : 0);
	snprintf(port, sizeof(port), "%d", u.port);
	if ((r = getaddrinfo(u.host, port, &hints, &res)) != 0)
		return fail(&c, "cannot resolve the host: %s", gai_strerror(r));
	for (const struct addrinfo *ai = res; ai != NULL && !o->allow_private; ai = ai->ai_next)
		if (!net_addr_is_public(ai->ai_addr)) {
			freeaddrinfo(res);
			return fail(&c, "address not allowed");
		}

	/* OpenSSL writes with write(2): a peer that has gone must not kill the process. */
	sigemptyset(&pipe_set);
	sigaddset(&pipe_set, SIGPIPE);
	pthread_sigmask(SIG_BLOCK, &pipe_set, &old);
	sigpending(&pending);
	pipe_was_pending = sigismember(&pending, SIGPIPE);

	if ((f = open_memstream(&head, &hlen)) == NULL) {
		fail(&c, "out of memory");
		goto done;
	}
	fprintf(f, "POST %s HTTP/1.1\r\nHost: %s%s%s", u.path, u.family == AF_INET6 ? "[" : "", u.host,
	    u.family == AF_INET6 ? "]" : "");
	if (u.port != 443)
		fprintf(f, ":%d", u.port);
	fprintf(f, "\r\nContent-Type: application/json\r\nContent-Length: %zu\r\n"
	    "User-Agent: tenantry-webhook/1\r\nConnection: close\r\n", len);
	for (const char *const *h = headers; h != NULL && *h != NULL; h++)
		fprintf(f, "%s\r\n", *h);
	fputs("\r\n", f);
	if (fclose(f) != 0) {
		fail(&c, "out of memory");
		goto done;
	}

	if ((c.fd = dial(&c, res)) < 0)
		goto done;
	if ((ctx = SSL_CTX_new(TLS_client_method())) == NULL ||
	    !SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION) ||
	    !SSL_CTX_set_default_verify_paths(ctx)) {
		fail(&c, "TLS: cannot set up");
		goto done;
	}
	if (o->ca_file != NULL && !SSL_CTX_load_verify_file(ctx, o->ca_file)) {
		fail(&c, "TLS: cannot load the CA file");
		goto done;
	}
	SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, NULL);
	SSL_CTX_set_options(ctx, SSL_OP_IGNORE_UNEXPECTED_EOF);   /* servers often close without close_notify */
	if ((c.ssl = SSL_new(ctx)) == NULL || !SSL_set_fd(c.ssl, c.fd)) {
		fail(&c, "TLS: cannot set up");
		goto done;
	}
	st = exchange(&c, &u, head, hlen, body, len);

done:
	SSL_free(c.ssl);
	SSL_CTX_free(ctx);
	if (c.fd >= 0)
		close(c.fd);
	free(head);
	freeaddrinfo(res);
	ERR_clear_error();   /* leave no stale errors for the next OpenSSL user on this thread */
	if (!pipe_was_pending) {
		struct timespec zero = { 0, 0 };

		sigpending(&pending);
		if (sigismember(&pending, SIGPIPE))
			sigtimedwait(&pipe_set, NULL, &zero);
	}
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	return st;
}

/* ---- Retries ---------------------------------------------------------------------- */

int
net_backoff_seconds(int attempt)
{
	if (attempt <= 1)
		return 30;
	if (attempt > 10)   /* 30 << 9 = 15360 is the last step below the cap; no shift overflows */
		return 21600;
	return 30 << (attempt - 1);
}
