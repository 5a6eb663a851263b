/* ref_inet.h: the fuzzers' own IPv4 and IPv6 text parsers and address classes, written from the RFCs apart from inet_pton and src/net. */
#ifndef TENANTRY_REF_INET_H
#define TENANTRY_REF_INET_H

#include <stdbool.h>
#include <stddef.h>
#include <string.h>

/*
 * Deliberately plain oracles for fuzz_cidr and fuzz_webhook_url (header
 * only: each fuzzer is one program). ref_ipv4 reads the dotted quad of
 * RFC 791 as inet_pton(3) documents it: exactly four decimal parts 0..255,
 * no leading zero. ref_ipv6 reads RFC 4291 §2.2: eight groups of one to
 * four hex digits, one "::" standing for one or more zero groups, and the
 * last two groups optionally a dotted quad. Nothing else (no zone id, no
 * brackets, no spaces).
 */

static inline int
ref_hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

static inline bool
ref_ipv4(const char *s, size_t n, unsigned char out[4])
{
	size_t i = 0;

	for (int part = 0; part < 4; part++) {
		size_t start = i;
		unsigned v = 0;

		if (part > 0) {
			if (i >= n || s[i] != '.')
				return false;
			start = ++i;
		}
		while (i < n && s[i] >= '0' && s[i] <= '9' && i - start < 4)
			v = v * 10 + (unsigned)(s[i++] - '0');
		if (i == start || i - start > 3 || v > 255 || (i - start > 1 && s[start] == '0'))
			return false;
		out[part] = (unsigned char)v;
	}
	return i == n;
}

static inline bool
ref_ipv6(const char *s, size_t n, unsigned char out[16])
{
	unsigned short head[8], tail[8];
	int nh = 0, nt = 0, *cnt = &nh;
	unsigned short *grp = head;
	bool gap = false;
	size_t i = 0;

	if (n >= 2 && s[0] == ':' && s[1] == ':') {
		gap = true;
		grp = tail;
		cnt = &nt;
		i = 2;
		if (i == n)
			goto assemble;
	} else if (n > 0 && s[0] == ':') {
		return false;
	}
	for (;;) {
		size_t start = i;
		unsigned v = 0;
		unsigned char q[4];

		/* A dotted quad, only as the very last thing. */
		if (memchr(s + i, '.', n - i) != NULL && memchr(s + i, ':', n - i) == NULL) {
			if (!ref_ipv4(s + i, n - i, q) || nh + nt + 2 > 8)
				return false;
			grp[(*cnt)++] = (unsigned short)(q[0] << 8 | q[1]);
			grp[(*cnt)++] = (unsigned short)(q[2] << 8 | q[3]);
			break;
		}
		while (i < n && ref_hexval(s[i]) >= 0 && i - start < 5)
			v = v << 4 | (unsigned)ref_hexval(s[i++]);
		if (i == start || i - start > 4 || nh + nt >= 8)
			return false;
		grp[(*cnt)++] = (unsigned short)v;
		if (i == n)
			break;
		if (s[i] != ':')
			return false;
		i++;
		if (i < n && s[i] == ':') {
			if (gap)
				return false;
			gap = true;
			grp = tail;
			cnt = &nt;
			i++;
			if (i == n)
				break;
		} else if (i == n) {
			return false;   /* a single trailing ':' */
		}
	}
assemble:
	if (gap ? nh + nt > 7 : nh != 8)
		return false;
	memset(out, 0, 16);
	for (int k = 0; k < nh; k++) {
		out[2 * k] = (unsigned char)(head[k] >> 8);
		out[2 * k + 1] = (unsigned char)head[k];
	}
	for (int k = 0; k < nt; k++) {
		out[16 - 2 * (nt - k)] = (unsigned char)(tail[k] >> 8);
		out[16 - 2 * (nt - k) + 1] = (unsigned char)tail[k];
	}
	return true;
}

/* Whether the first bits of a and p agree. */
static inline bool
ref_prefix(const unsigned char *a, const unsigned char *p, int bits)
{
	for (int b = 0; b < bits; b++)
		if (((a[b / 8] >> (7 - b % 8)) & 1) != ((p[b / 8] >> (7 - b % 8)) & 1))
			return false;
	return true;
}

/* "a.b.c.d/len" or "x::y/len" from the tables below, into bytes and length. */
static inline bool
ref_net(const char *cidr, unsigned char *p, int *bits, bool v6)
{
	const char *slash = strchr(cidr, '/');
	int len = 0;

	for (const char *d = slash + 1; *d; d++)
		len = len * 10 + (*d - '0');
	*bits = len;
	return v6 ? ref_ipv6(cidr, (size_t)(slash - cidr), p) : ref_ipv4(cidr, (size_t)(slash - cidr), p);
}

/*
 * Is a webhook allowed to reach this address? Written from the IANA
 * special-purpose registries (RFC 6890 and updates): an IPv4 address that
 * is not globally reachable unicast is closed; an IPv6 address is open
 * only inside global unicast 2000::/3 and outside its special blocks, and
 * the forms that carry an IPv4 address (mapped, NAT64 well-known prefix,
 * 6to4) are judged by that address.
 */
static const char *const ref_v4_closed[] = {
	"0.0.0.0/8", "10.0.0.0/8", "100.64.0.0/10", "127.0.0.0/8", "169.254.0.0/16",
	"172.16.0.0/12", "192.0.0.0/24", "192.0.2.0/24", "192.168.0.0/16", "198.18.0.0/15",
	"198.51.100.0/24", "203.0.113.0/24", "224.0.0.0/4", "240.0.0.0/4", "255.255.255.255/32",
};
static const char *const ref_v6_closed[] = {
	"2001::/23",        /* IETF protocol assignments: Teredo, benchmarking, ORCHID, ... */
	"2001:db8::/32",    /* documentation */
	"3fff::/20",        /* documentation (RFC 9637) */
};

static inline bool
ref_v4_open(const unsigned char a[4])
{
	unsigned char p[16];
	int bits;

	for (size_t i = 0; i < sizeof(ref_v4_closed) / sizeof(ref_v4_closed[0]); i++)
		if (ref_net(ref_v4_closed[i], p, &bits, false) && ref_prefix(a, p, bits))
			return false;
	return true;
}

static inline bool
ref_v6_open(const unsigned char a[16])
{
	static const unsigned char mapped[12] = { [10] = 0xff, [11] = 0xff };
	static const unsigned char nat64[12] = { 0x00, 0x64, 0xff, 0x9b };
	unsigned char p[16];
	int bits;

	if (memcmp(a, mapped, 12) == 0 || memcmp(a, nat64, 12) == 0)
		return ref_v4_open(a + 12);
	if (a[0] == 0x20 && a[1] == 0x02)
		return ref_v4_open(a + 2);
	if ((a[0] & 0xe0) != 0x20)
		return false;
	for (size_t i = 0; i < sizeof(ref_v6_closed) / sizeof(ref_v6_closed[0]); i++)
		if (ref_net(ref_v6_closed[i], p, &bits, true) && ref_prefix(a, p, bits))
			return false;
	return true;
}

#endif
