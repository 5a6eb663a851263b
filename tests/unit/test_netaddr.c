/* test_netaddr.c: unit tests for src/core/netaddr: addresses, CIDR lists, and the client address behind trusted proxies. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <string.h>

#include "core/netaddr.h"

static bool
in(const char *list, const char *addr)
{
	struct netaddr a;

	assert_true(core_addr_parse(addr, &a));
	return core_cidr_list_contains(list, &a);
}

static void
test_addresses(void **state)
{
	struct netaddr a;

	(void)state;
	assert_true(core_addr_parse("203.0.113.7", &a));
	assert_true(core_addr_parse("2001:db8::1", &a));
	assert_true(core_addr_parse("::ffff:203.0.113.7", &a));
	assert_false(core_addr_parse("203.0.113.256", &a));
	assert_false(core_addr_parse("203.0.113", &a));
	assert_false(core_addr_parse("203.0.113.7:443", &a));
	assert_false(core_addr_parse("[2001:db8::1]", &a));
	assert_false(core_addr_parse("fe80::1%eth0", &a));
	assert_false(core_addr_parse("", &a));
	assert_false(core_addr_parse(NULL, &a));
	assert_false(core_addr_parse("localhost", &a));
}

static void
test_cidrs(void **state)
{
	struct netaddr n;
	int bits;

	(void)state;
	assert_true(core_cidr_parse("10.0.0.0/8", &n, &bits));
	assert_int_equal(bits, 96 + 8);
	assert_true(core_cidr_parse("2001:db8::/32", &n, &bits));
	assert_int_equal(bits, 32);
	assert_true(core_cidr_parse("192.0.2.1", &n, &bits));
	assert_int_equal(bits, 128);
	assert_true(core_cidr_parse("0.0.0.0/0", &n, &bits));
	assert_false(core_cidr_parse("10.0.0.0/33", &n, &bits));
	assert_false(core_cidr_parse("2001:db8::/129", &n, &bits));
	assert_false(core_cidr_parse("10.0.0.0/08", &n, &bits));
	assert_false(core_cidr_parse("10.0.0.0/", &n, &bits));
	assert_false(core_cidr_parse("10.0.0.0/-1", &n, &bits));
	assert_false(core_cidr_parse("/8", &n, &bits));
	assert_false(core_cidr_parse("10.0.0.0/8x", &n, &bits));
}

/* Prefix boundaries, both families, and an IPv4 client written as IPv4-mapped IPv6. */
static void
test_contains(void **state)
{
	(void)state;
	assert_true(in("203.0.113.0/24", "203.0.113.0"));
	assert_true(in("203.0.113.0/24", "203.0.113.255"));
	assert_false(in("203.0.113.0/24", "203.0.114.0"));
	assert_false(in("203.0.113.0/24", "203.0.112.255"));
	assert_true(in("10.0.0.0/7", "11.255.255.255"));
	assert_false(in("10.0.0.0/7", "12.0.0.0"));
	assert_true(in("192.0.2.10", "192.0.2.10"));
	assert_false(in("192.0.2.10", "192.0.2.11"));
	assert_true(in("0.0.0.0/0", "198.51.100.1"));
	assert_false(in("0.0.0.0/0", "2001:db8::1"));   /* every IPv4 address, no IPv6 one */
	assert_true(in("203.0.113.0/24", "::ffff:203.0.113.9"));
	assert_true(in("2001:db8:abcd::/48", "2001:db8:abcd:ffff::1"));
	assert_false(in("2001:db8:abcd::/48", "2001:db8:abce::1"));
	assert_true(in("::/0", "2001:db8::1"));
	assert_false(in("2001:db8::/32", "203.0.113.7"));
}

static void
test_lists(void **state)
{
	char bad[64];

	(void)state;
	assert_true(in("198.51.100.0/24 203.0.113.0/24", "203.0.113.5"));
	assert_true(in("198.51.100.0/24,203.0.113.0/24", "203.0.113.5"));
	assert_true(in(" , 198.51.100.0/24 ,, 2001:db8::/32 ", "2001:db8::5"));
	assert_false(in("nonsense 198.51.100.0/24", "203.0.113.5"));
	assert_true(in("nonsense 203.0.113.0/24", "203.0.113.5"));   /* a bad entry matches nothing, the rest still do */
	assert_false(in("", "203.0.113.5"));
	assert_true(core_cidr_list_empty(NULL));
	assert_true(core_cidr_list_empty(""));
	assert_true(core_cidr_list_empty(" , "));
	assert_false(core_cidr_list_empty("10.0.0.0/8"));
	assert_true(core_cidr_list_valid("10.0.0.0/8, 2001:db8::/32", bad, sizeof(bad)));
	assert_true(core_cidr_list_valid("", bad, sizeof(bad)));
	assert_false(core_cidr_list_valid("10.0.0.0/8 10.0.0.0/99", bad, sizeof(bad)));
	assert_string_equal(bad, "10.0.0.0/99");
}

static const char *
client(const char *remote, const char *xff, const char *trusted)
{
	static char out[64];

	if (!core_client_addr(remote, xff, trusted, out, sizeof(out)))
		return NULL;
	return out;
}

/* X-Forwarded-For is believed only from a trusted proxy, and read from the right. */
static void
test_client(void **state)
{
	(void)state;
	/* No trusted proxy: the header is ignored, whoever sends it. */
	assert_string_equal(client("198.51.100.1", "203.0.113.7", NULL), "198.51.100.1");
	assert_string_equal(client("198.51.100.1", "203.0.113.7", ""), "198.51.100.1");
	/* The peer is not trusted: ignored too. */
	assert_string_equal(client("198.51.100.1", "203.0.113.7", "10.0.0.0/8"), "198.51.100.1");
	/* A trusted peer names the client. */
	assert_string_equal(client("10.0.0.2", "203.0.113.7", "10.0.0.0/8"), "203.0.113.7");
	/* What the client prepended is not believed: the rightmost untrusted hop is the client. */
	assert_string_equal(client("10.0.0.2", "192.0.2.1, 203.0.113.7", "10.0.0.0/8"), "203.0.113.7");
	/* Two trusted proxies in a row. */
	assert_string_equal(client("10.0.0.2", "203.0.113.7, 10.0.0.9", "10.0.0.0/8"), "203.0.113.7");
	/* Every hop trusted: the leftmost. */
	assert_string_equal(client("10.0.0.2", "10.0.0.5, 10.0.0.9", "10.0.0.0/8"), "10.0.0.5");
	/* A malformed hop stops the walk at the last trusted one. */
	assert_string_equal(client("10.0.0.2", "203.0.113.7, bogus", "10.0.0.0/8"), "10.0.0.2");
	assert_string_equal(client("10.0.0.2", "", "10.0.0.0/8"), "10.0.0.2");
	assert_string_equal(client("10.0.0.2", NULL, "10.0.0.0/8"), "10.0.0.2");
	/* IPv6, and the canonical form is what comes out. */
	assert_string_equal(client("::1", "2001:DB8:0:0::7", "::1"), "2001:db8::7");
	assert_string_equal(client("::ffff:10.0.0.2", "203.0.113.7", "10.0.0.0/8"), "203.0.113.7");
	/* A peer that is no IP address (a Unix socket) is not an address. */
	assert_null(client("unix:", "203.0.113.7", "10.0.0.0/8"));
	assert_null(client(NULL, NULL, NULL));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_addresses),
		cmocka_unit_test(test_cidrs),
		cmocka_unit_test(test_contains),
		cmocka_unit_test(test_lists),
		cmocka_unit_test(test_client),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
