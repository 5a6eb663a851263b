/* fuzz_cidr.c: libFuzzer target for the IP allow-list (settings_cidr_ok and security.ip_whitelist through settings_apply), checked against reference IPv4/IPv6 readers. */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "api/settings.h"
#include "ref_inet.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/*
 * security.ip_whitelist is a tenant's list of CIDR blocks, set through the
 * settings API (a JSON array) or the dashboard form (one a line). The input
 * is read twice:
 *   - whole, up to its first NUL, as one entry: settings_cidr_ok must
 *     accept exactly the address forms ref_inet.h reads (dotted quad, RFC
 *     4291 text) with an optional prefix length in decimal, no leading
 *     zero, at most 32 / 128;
 *   - split on '\n' (every piece an entry, empty ones included) as the
 *     list of a settings patch: settings_apply must accept it exactly when
 *     it has at most 100 entries and the reference accepts every one, and
 *     a refusal must name security.ip_whitelist and leave the list as sent
 *     out of nothing it accepted.
 */

static _Noreturn void
fail(const char *why, const char *s, size_t n)
{
	fprintf(stderr, "fuzz_cidr: %s: \"%.*s\"\n", why, (int)n, s);
	abort();
}

static bool
ref_cidr(const char *s, size_t n)
{
	const char *slash = memchr(s, '/', n);
	size_t al = slash ? (size_t)(slash - s) : n;
	unsigned char b[16];
	int max;
	unsigned long len = 0;

	if (memchr(s, '\0', n) != NULL)
		return false;
	if (ref_ipv4(s, al, b))
		max = 32;
	else if (ref_ipv6(s, al, b))
		max = 128;
	else
		return false;
	if (slash == NULL)
		return true;
	if (al + 1 == n || (s[al + 1] == '0' && al + 2 != n))
		return false;
	for (size_t i = al + 1; i < n; i++) {
		if (s[i] < '0' || s[i] > '9' || len > 128)
			return false;
		len = len * 10 + (unsigned long)(s[i] - '0');
	}
	return len <= (unsigned long)max;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *in = (const char *)data;
	char *one;
	size_t n1 = strnlen(in, size);
	struct json_object *patch, *sec, *list, *cur, *merged, *details, *got;
	size_t entries = 0;
	bool all_ok = true;

	/* One entry. */
	if ((one = malloc(n1 + 1)) == NULL)
		return 0;
	memcpy(one, in, n1);
	one[n1] = '\0';
	if (settings_cidr_ok(one) != ref_cidr(one, n1))
		fail(settings_cidr_ok(one) ? "settings_cidr_ok accepted what the reference refuses"
		                           : "settings_cidr_ok refused what the reference accepts", one, n1);
	free(one);

	/* The list. */
	list = json_object_new_array();
	for (size_t i = 0; i <= size;) {
		const char *nl = memchr(in + i, '\n', size - i);
		size_t len = nl ? (size_t)(nl - (in + i)) : size - i;

		json_object_array_add(list, json_object_new_string_len(in + i, (int)len));
		entries++;
		if (!ref_cidr(in + i, len))
			all_ok = false;
		i += len + 1;
	}
	patch = json_object_new_object();
	sec = json_object_new_object();
	json_object_object_add(sec, "ip_whitelist", list);
	json_object_object_add(patch, "security", sec);
	cur = json_object_new_object();
	details = json_object_new_array();
	if ((merged = settings_apply(cur, patch, SETTINGS_SUPERADMIN, details)) == NULL)
		fail("settings_apply ran out of memory", in, size);
	if ((json_object_array_length(details) == 0) != (all_ok && entries <= 100))
		fail(json_object_array_length(details) == 0 ? "settings_apply accepted a list the reference refuses"
		                                            : "settings_apply refused a list the reference accepts", in, size);
	if (json_object_array_length(details) > 0) {
		struct json_object *f;

		if (json_object_array_length(details) != 1 ||
		    !json_object_object_get_ex(json_object_array_get_idx(details, 0), "field", &f) ||
		    strcmp(json_object_get_string(f), "security.ip_whitelist") != 0)
			fail("a refused list is not reported as security.ip_whitelist alone", in, size);
	} else if (!json_object_object_get_ex(merged, "security", &sec) ||
	    !json_object_object_get_ex(sec, "ip_whitelist", &got) || !json_object_equal(got, list)) {
		fail("an accepted list is not stored as sent", in, size);
	}
	json_object_put(merged);
	json_object_put(details);
	json_object_put(cur);
	json_object_put(patch);
	return 0;
}
