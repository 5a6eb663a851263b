/* test_webhook.c: unit tests for src/net/webhook: signatures, tenant keys, URLs, addresses, backoff, refusals. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "core/util.h"
#include "net/webhook.h"

/*
 * Each rule is a table; a table test prints every row that disagrees and
 * fails once at the end. The delivery tests use 127.0.0.1 only: a socket
 * bound but not listening (refused), one listening but never answering
 * (timeout), and the private-address refusal, which connects nowhere.
 */

/* ---- Signatures and keys ------------------------------------------------------------ */

struct sigcase {
	const char *key;
	const char *data;
	const char *hex;   /* HMAC-SHA256 */
};

static const struct sigcase sigcases[] = {
	/* RFC 4231 test case 2. */
	{ "Jefe", "what do ya want for nothing?",
	  "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843" },
	/* RFC 4231 test case 1: key 20 x 0x0b. */
	{ "\x0b\x0b\x0b\x0b\x0b\x0b\x0b\x0b\x0b\x0b\x0b\x0b\x0b\x0b\x0b\x0b\x0b\x0b\x0b\x0b", "Hi There",
	  "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7" },
	/* An empty body still has a signature (here the well-known HMAC of "" under "key"). */
	{ "key", "", "5d5d139563c95b5967b9bd9a8c9b233a9dedb45072794cd232dc1b74832607d0" },
};

static void
sign_table(void **state)
{
	int fails = 0;

	(void)state;
	for (size_t i = 0; i < sizeof(sigcases) / sizeof(sigcases[0]); i++) {
		const struct sigcase *c = &sigcases[i];
		char out[72], want[72];

		memset(out, 'x', sizeof(out));
		snprintf(want, sizeof(want), "sha256=%s", c->hex);
		if (!net_webhook_sign((const unsigned char *)c->key, strlen(c->key), c->data,
		    strlen(c->data), out) || strcmp(out, want) != 0 || strlen(out) != WEBHOOK_SIG_LEN) {
			print_error("sign row %zu: got %.72s\n", i, out);
			fails++;
		}
	}
	assert_int_equal(fails, 0);
}

static void
key_derivation(void **state)
{
	static const unsigned char secret[] = "server secret of 32 bytes or so.";
	char a[64], a2[64], b[64], other[64], sig[72];

	(void)state;
	assert_true(net_webhook_key(secret, sizeof(secret) - 1, "11111111-1111-4111-8111-111111111111", a));
	assert_true(net_webhook_key(secret, sizeof(secret) - 1, "11111111-1111-4111-8111-111111111111", a2));
	assert_true(net_webhook_key(secret, sizeof(secret) - 1, "22222222-2222-4222-8222-222222222222", b));
	assert_true(net_webhook_key(secret, sizeof(secret) - 2, "11111111-1111-4111-8111-111111111111", other));
	assert_string_equal(a, a2);                    /* deterministic */
	assert_string_not_equal(a, b);                 /* per tenant */
	assert_string_not_equal(a, other);             /* per secret */
	assert_int_equal(strlen(a), WEBHOOK_KEY_LEN);
	assert_memory_equal(a, "whsec_", 6);
	for (size_t i = 6; i < WEBHOOK_KEY_LEN; i++)   /* base64url, no padding */
		assert_non_null(strchr("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_", a[i]));

	/* The signing key is the shown string itself, prefix and all. */
	assert_true(net_webhook_sign((const unsigned char *)a, strlen(a), "{}", 2, sig));
	assert_memory_equal(sig, "sha256=", 7);
}

/* Pinned (computed with Python's hmac): changing the derivation would break every customer. */
static void
key_known_value(void **state)
{
	char k[64];

	(void)state;
	assert_true(net_webhook_key((const unsigned char *)"secret", 6, "t1", k));
	assert_string_equal(k, "whsec_eTaS199IaC0znNNkLlKMyluCNPCm34WhFvV-dj-9MwQ");   /* has a "-": base64url */
}

/* ---- URLs -------------------------------------------------------------------------- */

struct urlcase {
	const char *url;
	bool        ok;
	const char *host;
	int         port;
	const char *path;
	int         family;
};

#define NO false, NULL, 0, NULL, 0

static const struct urlcase urlcases[] = {
	{ "https://hook.example",                      true, "hook.example", 443, "/", AF_UNSPEC },
	{ "https://hook.example/",                     true, "hook.example", 443, "/", AF_UNSPEC },
	{ "HTTPS://Hook.Example/In/Box",               true, "hook.example", 443, "/In/Box", AF_UNSPEC },
	{ "https://hook.example/a/b?x=1&y=2",          true, "hook.example", 443, "/a/b?x=1&y=2", AF_UNSPEC },
	{ "https://hook.example?x=1",                  true, "hook.example", 443, "/?x=1", AF_UNSPEC },
	{ "https://hook.example/a#frag",               true, "hook.example", 443, "/a", AF_UNSPEC },
	{ "https://hook.example/a?q=1#frag?x",         true, "hook.example", 443, "/a?q=1", AF_UNSPEC },
	{ "https://hook.example#frag",                 true, "hook.example", 443, "/", AF_UNSPEC },
	{ "https://hook.example/caf\xC3\xA9",          true, "hook.example", 443, "/caf%C3%A9", AF_UNSPEC },
	{ "https://a-b.c9.example:8443/h",             true, "a-b.c9.example", 8443, "/h", AF_UNSPEC },
	{ "https://localhost",                         true, "localhost", 443, "/", AF_UNSPEC },
	/* Port bounds. */
	{ "https://hook.example:1/",                   true, "hook.example", 1, "/", AF_UNSPEC },
	{ "https://hook.example:65535/",               true, "hook.example", 65535, "/", AF_UNSPEC },
	{ "https://hook.example:0/",                   NO },
	{ "https://hook.example:65536/",               NO },
	{ "https://hook.example:/",                    NO },
	{ "https://hook.example:99999999/",            NO },
	{ "https://hook.example:-1/",                  NO },
	{ "https://hook.example:44a/",                 NO },
	{ "https://hook.example:443:443/",             NO },
	/* Address literals. */
	{ "https://203.0.113.7/x",                     true, "203.0.113.7", 443, "/x", AF_INET },
	{ "https://127.0.0.1:9/",                      true, "127.0.0.1", 9, "/", AF_INET },
	{ "https://[2001:db8::1]/x",                   true, "2001:db8::1", 443, "/x", AF_INET6 },
	{ "https://[2001:DB8::1]:8443?q",              true, "2001:db8::1", 8443, "/?q", AF_INET6 },
	{ "https://[::ffff:192.0.2.1]/",               true, "::ffff:192.0.2.1", 443, "/", AF_INET6 },
	{ "https://[::1]",                             true, "::1", 443, "/", AF_INET6 },
	{ "https://::1/",                              NO },
	{ "https://[::1/",                             NO },
	{ "https://[::1]x/",                           NO },
	{ "https://[]/",                               NO },
	{ "https://[fe80::1%25eth0]/",                 NO },
	{ "https://[hook.example]/",                   NO },
	{ "https://[203.0.113.7]/",                    NO },
	/* Numeric last labels are addresses to a resolver: only dotted quads pass. */
	{ "https://127.1/",                            NO },
	{ "https://0x7f000001/",                       NO },
	{ "https://2130706433/",                       NO },
	{ "https://1.2.3.4.5/",                        NO },
	{ "https://300.1.1.1/",                        NO },
	{ "https://010.0.0.1/",                        NO },
	/* Host names. */
	{ "https:///path",                             NO },
	{ "https://",                                  NO },
	{ "https://-hook.example/",                    NO },
	{ "https://hook-.example/",                    NO },
	{ "https://hook..example/",                    NO },
	{ "https://.hook.example/",                    NO },
	{ "https://hook.example./",                    NO },
	{ "https://hook_x.example/",                   NO },
	{ "https://h\xC3\xA9.example/",                NO },
	{ "https://aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa.example/", true,
	  "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa.example", 443, "/", AF_UNSPEC },
	{ "https://aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa.example/", NO },
	/* Userinfo, schemes, whitespace, control characters. */
	{ "https://user@hook.example/",                NO },
	{ "https://user:pw@hook.example/",             NO },
	{ "https://hook.example@evil.example/",        NO },
	{ "http://hook.example/",                      NO },
	{ "ftp://hook.example/",                       NO },
	{ "//hook.example/",                           NO },
	{ "hook.example",                              NO },
	{ "",                                          NO },
	{ "https://hook.example/a b",                  NO },
	{ " https://hook.example/",                    NO },
	{ "https://hook.example/\t",                   NO },
	{ "https://hook.example/a\r\nX-Evil: 1",       NO },
	{ "https://hook.example/\x7f",                 NO },
	{ "https://hook.example/#a b",                 NO },
};

static void
url_table(void **state)
{
	int fails = 0;

	(void)state;
	for (size_t i = 0; i < sizeof(urlcases) / sizeof(urlcases[0]); i++) {
		const struct urlcase *c = &urlcases[i];
		struct webhook_url u;
		bool ok = net_webhook_url_parse(c->url, &u);

		if (ok != c->ok || (ok && (strcmp(u.host, c->host) != 0 || u.port != c->port ||
		    strcmp(u.path, c->path) != 0 || u.family != c->family))) {
			print_error("url row %zu \"%s\": got %s", i, c->url, ok ? "ok" : "refused");
			if (ok)
				print_error(" host=%s port=%d path=%s family=%d", u.host, u.port, u.path, u.family);
			print_error("\n");
			fails++;
		}
	}
	assert_int_equal(fails, 0);
}

/* The 2048-byte limit, on both sides; and a target that percent-encoding would grow past it. */
static void
url_length_boundary(void **state)
{
	static char url[WEBHOOK_URL_MAX + 2];
	struct webhook_url u;
	size_t pre = strlen("https://h.example/");

	(void)state;
	memcpy(url, "https://h.example/", pre);
	memset(url + pre, 'a', WEBHOOK_URL_MAX - pre);
	url[WEBHOOK_URL_MAX] = '\0';
	assert_true(net_webhook_url_parse(url, &u));
	assert_int_equal(strlen(u.path), WEBHOOK_URL_MAX - pre + 1);
	url[WEBHOOK_URL_MAX] = 'a';
	url[WEBHOOK_URL_MAX + 1] = '\0';
	assert_false(net_webhook_url_parse(url, &u));
	memset(url + pre, '\xE9', WEBHOOK_URL_MAX - pre);
	url[WEBHOOK_URL_MAX] = '\0';
	assert_false(net_webhook_url_parse(url, &u));
}

/* ---- Addresses --------------------------------------------------------------------- */

struct addrcase {
	const char *addr;
	bool        public;
};

static const struct addrcase addrcases[] = {
	{ "8.8.8.8",                 true },
	{ "1.1.1.1",                 true },
	{ "93.184.216.34",           true },
	{ "0.0.0.0",                 false },
	{ "0.1.2.3",                 false },
	{ "10.0.0.1",                false },
	{ "10.255.255.255",          false },
	{ "11.0.0.1",                true },
	{ "100.63.255.255",          true },
	{ "100.64.0.1",              false },
	{ "100.127.255.255",         false },
	{ "100.128.0.0",             true },
	{ "127.0.0.1",               false },
	{ "127.255.255.254",         false },
	{ "169.254.169.254",         false },   /* cloud metadata */
	{ "172.15.255.255",          true },
	{ "172.16.0.1",              false },
	{ "172.31.255.255",          false },
	{ "172.32.0.0",              true },
	{ "192.168.1.1",             false },
	{ "192.169.0.1",             true },
	{ "192.0.2.1",               false },
	{ "203.0.113.7",             false },
	{ "224.0.0.1",               false },
	{ "239.255.255.255",         false },
	{ "240.0.0.1",               false },
	{ "255.255.255.255",         false },
	{ "223.255.255.255",         true },
	{ "::",                      false },
	{ "::1",                     false },
	{ "::127.0.0.1",             false },
	{ "2606:4700:4700::1111",    true },
	{ "2a00:1450:4001::200e",    true },
	{ "2001:db8::1",             false },
	{ "fc00::1",                 false },
	{ "fdff:ffff::1",            false },
	/* IETF-reserved (fe00::/9): not global unicast (this row said public before fuzz_webhook_url). */
	{ "fe00::1",                 false },
	/* Global unicast 2000::/3 and its edges; its special blocks. */
	{ "1fff:ffff::1",            false },
	{ "2000::1",                 true },
	{ "3fff:1000::1",            true },
	{ "3fff:fff::1",             false },
	{ "4000::1",                 false },
	{ "8000::1",                 false },
	{ "2001::1",                 false },
	{ "2001:2::1",               false },
	{ "2001:1ff:ffff::1",        false },
	{ "2001:200::1",             true },
	{ "100::1",                  false },
	{ "::1:0:0:1",               false },
	{ "fe80::1",                 false },
	{ "febf::1",                 false },
	{ "fec0::1",                 false },
	{ "ff02::1",                 false },
	{ "::ffff:8.8.8.8",          true },
	{ "::ffff:127.0.0.1",        false },
	{ "::ffff:10.1.2.3",         false },
	{ "::ffff:169.254.169.254",  false },
	{ "::ffff:0.0.0.0",          false },
	{ "64:ff9b::8.8.8.8",        true },
	{ "64:ff9b::192.168.0.1",    false },
	{ "64:ff9b:1::1",            false },
	{ "2002:0808:0808::1",       true },
	{ "2002:7f00:0001::1",       false },
	{ "2002:c0a8:0101::1",       false },
};

static void
addr_table(void **state)
{
	int fails = 0;

	(void)state;
	for (size_t i = 0; i < sizeof(addrcases) / sizeof(addrcases[0]); i++) {
		struct sockaddr_in in4 = { .sin_family = AF_INET };
		struct sockaddr_in6 in6 = { .sin6_family = AF_INET6 };
		const struct sockaddr *sa = NULL;

		if (inet_pton(AF_INET, addrcases[i].addr, &in4.sin_addr) == 1)
			sa = (const struct sockaddr *)&in4;
		else if (inet_pton(AF_INET6, addrcases[i].addr, &in6.sin6_addr) == 1)
			sa = (const struct sockaddr *)&in6;
		else
			fail_msg("addr row %zu: table address does not parse", i);
		if (net_addr_is_public(sa) != addrcases[i].public) {
			print_error("addr row %zu %s: want %s\n", i, addrcases[i].addr,
			    addrcases[i].public ? "public" : "not public");
			fails++;
		}
	}
	assert_int_equal(fails, 0);
}

static void
addr_other_family(void **state)
{
	struct sockaddr sa = { .sa_family = AF_UNIX };

	(void)state;
	assert_false(net_addr_is_public(&sa));
}

/* ---- Backoff ----------------------------------------------------------------------- */

static const struct {
	int attempt;
	int seconds;
} backoff_cases[] = {
	{ 1, 30 }, { 2, 60 }, { 3, 120 }, { 4, 240 }, { 9, 7680 },
	{ 10, 15360 }, { 11, 21600 }, { 12, 21600 },   /* 30 * 2^10 = 30720 is past 6 h */
	{ 31, 21600 }, { 32, 21600 }, { 33, 21600 }, { 64, 21600 }, { 1000, 21600 }, { INT32_MAX, 21600 },
	{ 0, 30 }, { -1, 30 }, { INT32_MIN, 30 },
};

static void
backoff_table(void **state)
{
	int fails = 0;

	(void)state;
	for (size_t i = 0; i < sizeof(backoff_cases) / sizeof(backoff_cases[0]); i++)
		if (net_backoff_seconds(backoff_cases[i].attempt) != backoff_cases[i].seconds) {
			print_error("backoff row %zu (attempt %d): got %d, want %d\n", i,
			    backoff_cases[i].attempt, net_backoff_seconds(backoff_cases[i].attempt),
			    backoff_cases[i].seconds);
			fails++;
		}
	assert_int_equal(fails, 0);
}

/* ---- Delivery on loopback ---------------------------------------------------------- */

/* A TCP socket on 127.0.0.1, bound to a free port, listening if asked; its port in *port. */
static int
loopback_socket(bool listening, int *port)
{
	struct sockaddr_in sin = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t sl = sizeof(sin);
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	assert_true(fd >= 0);
	assert_int_equal(bind(fd, (struct sockaddr *)&sin, sizeof(sin)), 0);
	if (listening)
		assert_int_equal(listen(fd, 4), 0);
	assert_int_equal(getsockname(fd, (struct sockaddr *)&sin, &sl), 0);
	*port = ntohs(sin.sin_port);
	return fd;
}

static void
post_refused(void **state)
{
	struct webhook_opts o = { .allow_private = true, .timeout_ms = 5000 };
	char url[128], err[256];
	int port, fd = loopback_socket(false, &port);   /* bound, not listening: refused */
	double t0 = core_mono_ms();

	(void)state;
	snprintf(url, sizeof(url), "https://127.0.0.1:%d/s3cr3t?token=s3cr3t", port);
	assert_int_equal(net_webhook_post(&o, url, NULL, "{}", 2, err, sizeof(err)), -1);
	assert_true(core_mono_ms() - t0 < 2000);
	assert_non_null(strstr(err, "refused"));
	assert_null(strstr(err, "s3cr3t"));
	close(fd);
}

static void
post_not_allowed(void **state)
{
	static const char *const hdr[] = { "X-Tenantry-Signature: sha256=s3cr3t", NULL };
	struct webhook_opts o = { .allow_private = false };
	char url[128], err[256];
	int port, fd = loopback_socket(false, &port);

	(void)state;
	snprintf(url, sizeof(url), "https://127.0.0.1:%d/s3cr3t", port);
	assert_int_equal(net_webhook_post(&o, url, hdr, "{\"s3cr3t\":1}", 12, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "not allowed"));
	assert_null(strstr(err, "s3cr3t"));
	/* A name that resolves to loopback (from /etc/hosts), and the default options. */
	snprintf(url, sizeof(url), "https://localhost:%d/", port);
	assert_int_equal(net_webhook_post(NULL, url, NULL, "{}", 2, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "not allowed"));
	snprintf(url, sizeof(url), "https://[::1]:%d/", port);
	assert_int_equal(net_webhook_post(&o, url, NULL, "{}", 2, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "not allowed"));
	close(fd);
}

/* Refused before any connection: a bad URL, reserved or malformed extra headers. */
static void
post_bad_input(void **state)
{
	static const char *const host[] = { "X-A: 1", "Host: s3cr3t.example", NULL };
	static const char *const crlf[] = { "X-A: s3cr3t\r\nX-B: 2", NULL };
	static const char *const noname[] = { ": s3cr3t", NULL };
	static const char *const cl[] = { "content-length: 0", NULL };
	static const char *const *const bad[] = { host, crlf, noname, cl };
	struct webhook_opts o = { .allow_private = true };
	char err[256];

	(void)state;
	assert_int_equal(net_webhook_post(&o, "http://127.0.0.1:9/s3cr3t", NULL, "{}", 2, err, sizeof(err)), -1);
	assert_true(err[0] != '\0');
	assert_null(strstr(err, "s3cr3t"));
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		err[0] = '\0';
		assert_int_equal(net_webhook_post(&o, "https://127.0.0.1:9/", bad[i], "{}", 2, err, sizeof(err)), -1);
		assert_non_null(strstr(err, "header"));
		assert_null(strstr(err, "s3cr3t"));
	}
}

/* A server that accepts the connection (the kernel does) but never speaks: the handshake times out. */
static void
post_timeout(void **state)
{
	struct webhook_opts o = { .allow_private = true, .timeout_ms = 300 };
	char url[128], err[256];
	int port, fd = loopback_socket(true, &port);
	double t0 = core_mono_ms(), dt;

	(void)state;
	snprintf(url, sizeof(url), "https://127.0.0.1:%d/", port);
	assert_int_equal(net_webhook_post(&o, url, NULL, "{}", 2, err, sizeof(err)), -1);
	dt = core_mono_ms() - t0;
	assert_true(dt >= 250 && dt < 2000);
	assert_non_null(strstr(err, "timed out"));
	close(fd);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(sign_table),
		cmocka_unit_test(key_derivation),
		cmocka_unit_test(key_known_value),
		cmocka_unit_test(url_table),
		cmocka_unit_test(url_length_boundary),
		cmocka_unit_test(addr_table),
		cmocka_unit_test(addr_other_family),
		cmocka_unit_test(backoff_table),
		cmocka_unit_test(post_refused),
		cmocka_unit_test(post_not_allowed),
		cmocka_unit_test(post_bad_input),
		cmocka_unit_test(post_timeout),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
