/* fuzz_webhook_url.c: libFuzzer target for the SSRF gate (net_webhook_url_parse, net_addr_is_public, settings_url_ok), checked against a naive second implementation. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "api/settings.h"
#include "net/webhook.h"
#include "ref_inet.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/*
 * A webhook URL is what a tenant admin types and the notifier POSTs to
 * from inside our network. The oracle reads the input (up to its first
 * NUL) as webhook.h promises, written from RFC 3986 without looking at
 * src/net: "https://" in any case; no byte <= 0x20 or 0x7f anywhere; the
 * authority runs to the first '/', '?' or '#' and holds no '@'; it is
 * "[IPv6]" or a host, then optionally ':' and a port of 1 to 5 digits
 * worth 1..65535; a host is a dotted quad or a DNS name (labels of 1..63
 * letters, digits and inner hyphens) whose last label does not start with
 * a digit (0x7f000001, 127.1), 255 bytes at most; the request target is
 * the path and query with '/' in front if absent, the fragment dropped,
 * bytes above 0x7f as %XX. Accept/reject, host (lower-cased), port, family
 * and target must agree with net_webhook_url_parse; for an address
 * literal, net_addr_is_public must agree with ref_inet.h's reading of the
 * IANA special-purpose registries; settings_url_ok (what a settings PUT
 * stores) must accept nothing the parser refuses.
 */

struct ref_url {
	char   host[WEBHOOK_HOST_MAX + 1];
	char  *target;   /* malloc'd */
	size_t tlen;
	int    port, family;
	unsigned char addr[16];
};

static _Noreturn void
fail(const char *why, const char *s)
{
	fprintf(stderr, "fuzz_webhook_url: %s: \"%s\"\n", why, s);
	abort();
}

static char
ref_lower(char c)
{
	return c >= 'A' && c <= 'Z' ? (char)(c - 'A' + 'a') : c;
}

static bool
ref_alnum(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}

/* DNS name: labels split on '.', each 1..63 of [A-Za-z0-9-], no '-' at either end; the last not starting with a digit. */
static bool
ref_dns(const char *h, size_t n)
{
	size_t start = 0;
	const char *last = h;

	for (size_t i = 0; i <= n; i++) {
		if (i == n || h[i] == '.') {
			size_t l = i - start;

			if (l == 0 || l > 63 || h[start] == '-' || h[i - 1] == '-')
				return false;
			last = h + start;
			start = i + 1;
		} else if (!ref_alnum(h[i]) && h[i] != '-') {
			return false;
		}
	}
	return !(*last >= '0' && *last <= '9');
}

static bool
ref_parse(const char *s, struct ref_url *u)
{
	size_t n = strlen(s), a, e, hs, he, ps = 0, pe = 0;
	bool v6 = false, has_port = false;

	memset(u, 0, sizeof(*u));
	if (n > WEBHOOK_URL_MAX || n < 8)
		return false;
	for (size_t i = 0; i < 8; i++)
		if (ref_lower(s[i]) != "https://"[i])
			return false;
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)s[i] <= 0x20 || (unsigned char)s[i] == 0x7f)
			return false;
	a = 8;
	for (e = a; e < n && s[e] != '/' && s[e] != '?' && s[e] != '#'; e++)
		if (s[e] == '@')
			return false;
	if (a < e && s[a] == '[') {
		size_t c = a + 1;

		while (c < e && s[c] != ']')
			c++;
		if (c == e)
			return false;
		hs = a + 1, he = c, v6 = true;
		if (c + 1 < e) {
			if (s[c + 1] != ':')
				return false;
			has_port = true, ps = c + 2, pe = e;
		}
	} else {
		size_t c = a;

		while (c < e && s[c] != ':')
			c++;
		hs = a, he = c;
		if (c < e)
			has_port = true, ps = c + 1, pe = e;
	}
	if (he == hs || he - hs > WEBHOOK_HOST_MAX)
		return false;
	for (size_t i = hs; i < he; i++)
		u->host[i - hs] = ref_lower(s[i]);
	u->port = 443;
	if (has_port) {
		long v = 0;

		if (pe == ps || pe - ps > 5)
			return false;
		for (size_t i = ps; i < pe; i++) {
			if (s[i] < '0' || s[i] > '9')
				return false;
			v = v * 10 + (s[i] - '0');
		}
		if (v < 1 || v > 65535)
			return false;
		u->port = (int)v;
	}
	if (v6) {
		if (!ref_ipv6(u->host, he - hs, u->addr))
			return false;
		u->family = AF_INET6;
	} else if (ref_ipv4(u->host, he - hs, u->addr)) {
		u->family = AF_INET;
	} else if (ref_dns(u->host, he - hs)) {
		u->family = AF_UNSPEC;
	} else {
		return false;
	}
	/* The target: at most 3 bytes per input byte, and a '/'. */
	if ((u->target = malloc(3 * n + 2)) == NULL)
		abort();
	if (e == n || s[e] != '/')
		u->target[u->tlen++] = '/';
	for (size_t i = e; i < n && s[i] != '#'; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c >= 0x80)
			u->tlen += (size_t)sprintf(u->target + u->tlen, "%%%02X", c);
		else
			u->target[u->tlen++] = (char)c;
	}
	u->target[u->tlen] = '\0';
	return true;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct webhook_url got;   /* 2.3 KiB: off the stack */
	struct ref_url want;
	char *s;
	bool ok, ref;

	if ((s = malloc(size + 1)) == NULL)
		return 0;
	memcpy(s, data, size);
	s[size] = '\0';

	ok = net_webhook_url_parse(s, &got);
	ref = ref_parse(s, &want);
	/*
	 * The one place the two may differ: a request target longer than the
	 * parser's 2048-byte buffer (bytes above 0x7f triple in size) may be
	 * refused from 2046 bytes on; one over 2048 must be.
	 */
	if (ref && !ok && want.tlen >= WEBHOOK_URL_MAX - 2) {
		free(want.target);
		free(s);
		return 0;
	}
	if (ok != ref)
		fail(ok ? "net_webhook_url_parse accepted what the reference refuses"
		        : "net_webhook_url_parse refused what the reference accepts", s);
	if (ok) {
		if (strcmp(got.host, want.host) != 0)
			fail("another host", s);
		if (got.port != want.port)
			fail("another port", s);
		if (got.family != want.family)
			fail("another address family", s);
		if (strcmp(got.path, want.target) != 0)
			fail("another request target", s);
		if (want.family == AF_INET) {
			struct sockaddr_in sin = { .sin_family = AF_INET };

			memcpy(&sin.sin_addr, want.addr, 4);
			if (net_addr_is_public((const struct sockaddr *)&sin) != ref_v4_open(want.addr))
				fail(ref_v4_open(want.addr) ? "net_addr_is_public refused a public IPv4 address"
				                            : "net_addr_is_public let through a closed IPv4 address", s);
		} else if (want.family == AF_INET6) {
			struct sockaddr_in6 sin6 = { .sin6_family = AF_INET6 };

			memcpy(&sin6.sin6_addr, want.addr, 16);
			if (net_addr_is_public((const struct sockaddr *)&sin6) != ref_v6_open(want.addr))
				fail(ref_v6_open(want.addr) ? "net_addr_is_public refused a public IPv6 address"
				                            : "net_addr_is_public let through a closed IPv6 address", s);
		}
	}
	if (settings_url_ok(s) && !ok)
		fail("settings_url_ok stores a URL the notifier cannot parse", s);
	free(want.target);
	free(s);
	return 0;
}
