/* test_cache.c: unit tests for src/core/cache and src/auth/context: exact keys, tags, age and revalidation, capacity, the (principal, tenant) key. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "auth/context.h"
#include "core/arena.h"
#include "core/cache.h"

#define TTL 2000.0
#define MAXAGE 60000.0

static uint64_t
tag(const char *s)
{
	return cache_tag(s, strlen(s));
}

static bool
put(struct cache *c, const char *k, const char *v, const char *t1, const char *t2, double ms)
{
	uint64_t t[2] = { tag(t1), t2 ? tag(t2) : 0 };

	return cache_put(c, k, strlen(k), v, strlen(v) + 1, t, t2 ? 2 : 1, cache_seq(c), ms);
}

static const char *
get(struct cache *c, const char *k, double ms)
{
	size_t n;

	return cache_get(c, k, strlen(k), ms, &n);
}

/* A key finds only itself: a prefix, an extension or one changed byte is another key. */
static void
keys_exact(void **state)
{
	struct cache *c = cache_new(64, 1 << 20, TTL, MAXAGE);

	(void)state;
	assert_true(put(c, "Uaaa\037ibbb", "one", "u:aaa", "t:bbb", 0));
	assert_string_equal(get(c, "Uaaa\037ibbb", 1), "one");
	assert_null(get(c, "Uaaa\037ibb", 1));
	assert_null(get(c, "Uaaa\037ibbbb", 1));
	assert_null(get(c, "Uaab\037ibbb", 1));
	assert_null(get(c, "Uaaa\037sbbb", 1));
	cache_free(c);
}

/* A copy is the entry's bytes and a NUL, in the arena, and outlives a later put; a miss is NULL. */
static void
get_copy(void **state)
{
	struct cache *c = cache_new(64, 1 << 20, TTL, MAXAGE);
	struct arena *a = arena_new(4096);
	uint64_t t = tag("t:x");
	char *copy;
	size_t n = 0;

	(void)state;
	assert_true(cache_put(c, "K", 1, "abc", 3, &t, 1, cache_seq(c), 0));
	copy = cache_get_copy(c, a, "K", 1, 1, &n);
	assert_non_null(copy);
	assert_int_equal(n, 3);
	assert_string_equal(copy, "abc");
	assert_true(cache_put(c, "K", 1, "xyz", 3, &t, 1, cache_seq(c), 2));
	assert_string_equal(copy, "abc");
	cache_invalidate(c, t);
	assert_null(cache_get_copy(c, a, "K", 1, 3, &n));
	assert_null(cache_get_copy(c, a, "other", 5, 3, &n));
	arena_free(a);
	cache_free(c);
}

/* A tag kills exactly the entries that carry it, at once. */
static void
tags_invalidate(void **state)
{
	struct cache *c = cache_new(64, 1 << 20, TTL, MAXAGE);
	struct cache_stats st;

	(void)state;
	assert_true(put(c, "a", "1", "u:aaa", "t:bbb", 0));
	assert_true(put(c, "b", "2", "u:ccc", "t:ddd", 0));
	assert_true(put(c, "c", "3", "u:aaa", "t:ddd", 0));
	cache_invalidate(c, tag("t:bbb"));
	cache_stats(c, &st);
	assert_int_equal(st.entries, 2);   /* gone from memory, not just hidden */
	assert_null(get(c, "a", 11));
	assert_string_equal(get(c, "b", 11), "2");
	cache_invalidate(c, tag("u:aaa"));
	assert_null(get(c, "c", 11));
	assert_string_equal(get(c, "b", 11), "2");
	cache_invalidate(c, tag("t:ddd"));
	assert_null(get(c, "b", 11));
	/* Read after the invalidation: valid. */
	assert_true(put(c, "a", "3", "u:aaa", "t:bbb", 12));
	assert_string_equal(get(c, "a", 13), "3");
	/* A replaced entry leaves no stale tag behind. */
	assert_true(put(c, "a", "4", "u:zzz", NULL, 14));
	cache_invalidate(c, tag("t:bbb"));
	assert_string_equal(get(c, "a", 15), "4");
	cache_free(c);
}

/*
 * Never used TTL after its read unless revalidated; revalidation (the
 * listener's echo) counts as a read at that time, up to the maximum age.
 */
static void
age_bound(void **state)
{
	struct cache *c = cache_new(64, 1 << 20, TTL, MAXAGE);

	(void)state;
	assert_true(put(c, "a", "1", "x", NULL, 1000));
	assert_non_null(get(c, "a", 1000 + TTL - 1));
	assert_null(get(c, "a", 1000 + TTL));
	assert_true(put(c, "a", "1", "x", NULL, 1000));
	assert_null(get(c, "a", 999));   /* a clock going back */
	/* Revalidated at 2500: alive until 4500, not after. */
	assert_true(put(c, "b", "1", "x", NULL, 1000));
	cache_validated(c, 2500);
	assert_non_null(get(c, "b", 4499));
	assert_null(get(c, "b", 4500));
	/* Revalidated forever: dead at the maximum age all the same. */
	assert_true(put(c, "d", "1", "x", NULL, 5000));
	for (double t = 5000; t < 5000 + MAXAGE + 1000; t += 500) {
		cache_validated(c, t);
		if (t < 5000 + MAXAGE)
			assert_non_null(get(c, "d", t));
		else
			assert_null(get(c, "d", t));
	}
	cache_free(c);
}

/* Clear drops everything, and reads that began before it cannot come back. */
static void
clear_all(void **state)
{
	struct cache *c = cache_new(64, 1 << 20, TTL, MAXAGE);
	uint64_t since = cache_seq(c), t = tag("x");
	struct cache_stats st;

	(void)state;
	assert_true(put(c, "a", "1", "x", NULL, 0));
	cache_validated(c, 1);
	cache_clear(c);
	assert_null(get(c, "a", 1));
	/* A read that began before the clear is refused; a revalidation before it is forgotten. */
	assert_false(cache_put(c, "a", 1, "1", 2, &t, 1, since, 0));
	assert_true(put(c, "b", "1", "x", NULL, 10));
	assert_null(get(c, "b", 10 + TTL));
	cache_stats(c, &st);
	assert_int_equal(st.entries, 0);
	assert_int_equal(st.clears, 1);
	cache_free(c);
}

/* Capacity: entries and bytes; the least recently used goes first. */
static void
lru_capacity(void **state)
{
	struct cache *c = cache_new(3, 1 << 20, TTL, MAXAGE);
	struct cache_stats st;

	(void)state;
	put(c, "a", "1", "x", NULL, 0);
	put(c, "b", "2", "x", NULL, 0);
	put(c, "c", "3", "x", NULL, 0);
	assert_non_null(get(c, "a", 1));   /* a is now the most recent */
	put(c, "d", "4", "x", NULL, 0);
	assert_null(get(c, "b", 1));
	assert_non_null(get(c, "a", 1));
	assert_non_null(get(c, "c", 1));
	assert_non_null(get(c, "d", 1));
	cache_stats(c, &st);
	assert_int_equal(st.entries, 3);
	assert_int_equal(st.evictions, 1);
	cache_free(c);
	/* A byte budget of 64: an entry over a quarter of it is refused, others evict. */
	c = cache_new(100, 64, TTL, MAXAGE);
	assert_false(put(c, "big", "0123456789abcdefghij", "x", NULL, 0));
	for (int i = 0; i < 10; i++) {
		char k[4];

		snprintf(k, sizeof(k), "k%d", i);
		assert_true(put(c, k, "12345", "x", NULL, 0));
	}
	cache_stats(c, &st);
	assert_true(st.bytes <= 64);
	assert_non_null(get(c, "k9", 1));
	assert_null(get(c, "k0", 1));
	cache_free(c);
}

/* Off: nothing is kept. */
static void
disabled(void **state)
{
	struct cache *c = cache_new(0, 1 << 20, TTL, MAXAGE);

	(void)state;
	assert_false(cache_enabled(c));
	assert_false(put(c, "a", "1", "x", NULL, 0));
	assert_null(get(c, "a", 1));
	cache_invalidate(c, tag("x"));
	cache_clear(c);
	cache_free(c);
}

/* Many invalidations: each costs only the entries it names; nothing else is lost. */
static void
many_invalidations(void **state)
{
	struct cache *c = cache_new(4096, 1 << 20, TTL, MAXAGE);
	struct cache_stats st;
	char name[32], key[32];

	(void)state;
	for (int i = 0; i < 1000; i++) {
		snprintf(name, sizeof(name), "t:%d", i);
		snprintf(key, sizeof(key), "k%d", i);
		assert_true(put(c, key, "v", name, "catalog", 0));
	}
	for (int i = 0; i < 50000; i++) {
		snprintf(name, sizeof(name), "t:%d", 1000 + i);
		cache_invalidate(c, tag(name));
	}
	cache_stats(c, &st);
	assert_int_equal(st.clears, 0);
	assert_int_equal(st.entries, 1000);
	cache_invalidate(c, tag("t:7"));
	assert_null(get(c, "k7", 1));
	assert_non_null(get(c, "k8", 1));
	cache_invalidate(c, tag("catalog"));
	cache_stats(c, &st);
	assert_int_equal(st.entries, 0);
	cache_free(c);
}

/* The context's key is (principal, tenant) exact, and a context survives its blob. */
static void
context_keys(void **state)
{
	struct principal a = { .cred = CRED_TENANT }, b = a, k = { .cred = CRED_API_KEY };
	char ka[AUTH_CTX_KEY_MAX], kb[AUTH_CTX_KEY_MAX];
	const char *t1 = "11111111-1111-1111-1111-111111111111";
	const char *t2 = "22222222-2222-2222-2222-222222222222";

	(void)state;
	snprintf(a.user_id, sizeof(a.user_id), "%s", "aaaaaaaa-aaaa-aaaa-aaaa-aaaaaaaaaaaa");
	snprintf(b.user_id, sizeof(b.user_id), "%s", "bbbbbbbb-bbbb-bbbb-bbbb-bbbbbbbbbbbb");
	memset(k.key_hash, 'f', 64);
	assert_true(auth_ctx_key(ka, &a, t1, NULL) > 0);
	assert_true(auth_ctx_key(kb, &b, t1, NULL) > 0);
	assert_string_not_equal(ka, kb);                  /* another principal */
	auth_ctx_key(kb, &a, t2, NULL);
	assert_string_not_equal(ka, kb);                  /* another tenant */
	auth_ctx_key(kb, &a, NULL, "acme");
	assert_string_not_equal(ka, kb);                  /* a slug is not an id */
	auth_ctx_key(kb, &a, NULL, NULL);
	assert_string_not_equal(ka, kb);                  /* no tenant */
	auth_ctx_key(ka, &k, t1, NULL);
	auth_ctx_key(kb, &k, t2, NULL);
	assert_string_equal(ka, kb);                      /* a key's context is its own tenant's */
	assert_true(strncmp(ka, "K", 1) == 0);
}

static void
context_blob(void **state)
{
	struct arena *ar = arena_new(4096);
	struct auth_ctx c = { .user_found = true, .tenant_found = true, .member = true,
	    .role = ROLE_ADMIN, .email = "a@b.c", .name = "Ann", .slug = "acme",
	    .tenant_name = "Acme", .tier = "business", .status = "active", .revoked_at = 12.5 }, d;
	size_t len;
	void *blob;

	(void)state;
	snprintf(c.tenant_id, sizeof(c.tenant_id), "%s", "11111111-1111-1111-1111-111111111111");
	blob = auth_ctx_pack(ar, &c, &len);
	assert_non_null(blob);
	assert_true(auth_ctx_unpack(ar, blob, len, &d));
	assert_int_equal(d.role, ROLE_ADMIN);
	assert_string_equal(d.email, "a@b.c");
	assert_string_equal(d.tier, "business");
	assert_string_equal(d.tenant_id, c.tenant_id);
	assert_null(d.key_id);
	assert_true(d.revoked_at == 12.5);
	assert_false(auth_ctx_unpack(ar, blob, len - 1, &d));   /* a cut blob is refused */
	arena_free(ar);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(keys_exact),
		cmocka_unit_test(get_copy),
		cmocka_unit_test(tags_invalidate),
		cmocka_unit_test(age_bound),
		cmocka_unit_test(clear_all),
		cmocka_unit_test(lru_capacity),
		cmocka_unit_test(disabled),
		cmocka_unit_test(many_invalidations),
		cmocka_unit_test(context_keys),
		cmocka_unit_test(context_blob),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
