/* netaddr.c: IP addresses and CIDR lists: the IP allow-list and the trusted proxies. */
#include "core/netaddr.h"
#include "core/util.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

static const unsigned char v4_prefix[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff };

static bool
is_v4(const struct netaddr *a)
{
	return memcmp(a->b, v4_prefix, sizeof(v4_prefix)) == 0;
}

bool
core_addr_parse(const char *s, struct netaddr *out)
{
	unsigned char v4[4];

	if (s == NULL || strlen(s) >= 46)
		return false;
	if (inet_pton(AF_INET, s, v4) == 1) {
		memcpy(out->b, v4_prefix, sizeof(v4_prefix));
		memcpy(out->b + 12, v4, 4);
		return true;
	}
	return inet_pton(AF_INET6, s, out->b) == 1;
}

bool
core_cidr_parse(const char *s, struct netaddr *net, int *bits)
{
	char addr[64];
	const char *slash = strchr(s, '/');
	size_t al = slash != NULL ? (size_t)(slash - s) : strlen(s);
	int64_t n;
	int max;

	if (al == 0 || al >= sizeof(addr))
		return false;
	memcpy(addr, s, al);
	addr[al] = '\0';
	if (!core_addr_parse(addr, net))
		return false;
	/* "::ffff:1.2.3.4" written as IPv6 counts as IPv4 too: its prefix is in IPv6 bits. */
	max = is_v4(net) && strchr(addr, ':') == NULL ? 32 : 128;
	if (slash == NULL) {
		*bits = max;
	} else {
		if (!isdigit((unsigned char)slash[1]) || (slash[1] == '0' && slash[2] != '\0') ||
		    !core_parse_i64(slash + 1, 0, max, &n))
			return false;
		*bits = (int)n;
	}
	if (max == 32)
		*bits += 96;   /* counted in the mapped form */
	return true;
}

bool
core_cidr_contains(const struct netaddr *net, int bits, const struct netaddr *a)
{
	int full = bits / 8, rest = bits % 8;

	if (bits < 0 || bits > 128)
		return false;
	if (memcmp(net->b, a->b, (size_t)full) != 0)
		return false;
	if (rest == 0)
		return true;
	return ((net->b[full] ^ a->b[full]) & (unsigned char)(0xff << (8 - rest))) == 0;
}

/* The next entry of a list into tok (cap bytes); returns where the rest begins, NULL at the end. */
static const char *
next_entry(const char *p, char *tok, size_t cap)
{
	size_t n = 0;

	while (*p == ' ' || *p == ',' || *p == '\t')
		p++;
	if (*p == '\0')
		return NULL;
	while (*p != '\0' && *p != ' ' && *p != ',' && *p != '\t') {
		if (n + 1 < cap)
			tok[n] = *p;
		n++;
		p++;
	}
	tok[n < cap ? n : 0] = '\0';   /* an entry too long for tok matches nothing */
	return p;
}

bool
core_cidr_list_contains(const char *list, const struct netaddr *a)
{
	char tok[64];
	struct netaddr net;
	int bits;

	for (const char *p = list != NULL ? list : ""; (p = next_entry(p, tok, sizeof(tok))) != NULL;)
		if (core_cidr_parse(tok, &net, &bits) && core_cidr_contains(&net, bits, a))
			return true;
	return false;
}

bool
core_cidr_list_empty(const char *list)
{
	char tok[64];

	return list == NULL || next_entry(list, tok, sizeof(tok)) == NULL;
}

bool
core_cidr_list_valid(const char *list, char *bad, size_t cap)
{
	char tok[64];
	struct netaddr net;
	int bits;

	for (const char *p = list != NULL ? list : ""; (p = next_entry(p, tok, sizeof(tok))) != NULL;)
		if (!core_cidr_parse(tok, &net, &bits)) {
			snprintf(bad, cap, "%s", tok[0] != '\0' ? tok : "(an entry too long)");
			return false;
		}
	return true;
}

/* The text form: dotted for IPv4 (mapped or not), RFC 5952 for IPv6. */
static void
addr_format(const struct netaddr *a, char *out, size_t cap)
{
	if (is_v4(a))
		inet_ntop(AF_INET, a->b + 12, out, (socklen_t)cap);
	else
		inet_ntop(AF_INET6, a->b, out, (socklen_t)cap);
}

bool
core_client_addr(const char *remote, const char *xff, const char *trusted, char *out, size_t cap)
{
	struct netaddr cur, hop;
	char tok[64];
	size_t n;

	if (cap < 46 || !core_addr_parse(remote, &cur))
		return false;
	if (xff != NULL && !core_cidr_list_empty(trusted) && core_cidr_list_contains(trusted, &cur)) {
		/* From the right: each hop was added by the one after it, only trusted ones are believed. */
		for (n = strlen(xff); n > 0;) {
			size_t end = n, start;

			while (end > 0 && (xff[end - 1] == ' ' || xff[end - 1] == ','))
				end--;
			start = end;
			while (start > 0 && xff[start - 1] != ',' && xff[start - 1] != ' ')
				start--;
			if (end == start || end - start >= sizeof(tok))
				break;
			memcpy(tok, xff + start, end - start);
			tok[end - start] = '\0';
			if (!core_addr_parse(tok, &hop))
				break;
			cur = hop;
			if (!core_cidr_list_contains(trusted, &cur))
				break;
			n = start;
		}
	}
	addr_format(&cur, out, cap);
	return true;
}
