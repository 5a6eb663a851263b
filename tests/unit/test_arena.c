/* test_arena.c: unit tests for src/core/arena: alignment, growth, reset, deferred cleanups, strings. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "core/arena.h"

/* The chunk size every test asks for; arena_new never goes below 1024. */
#define CHUNK 1024

static int
setup(void **state)
{
	struct arena *a = arena_new(CHUNK);

	if (a == NULL)
		return -1;
	*state = a;
	return 0;
}

static int
teardown(void **state)
{
	arena_free(*state);
	return 0;
}

/* ========================================================================
 * Allocation
 * ===================================================================== */

/* Every pointer, whatever the size asked before it, is max_align_t aligned. */
static void
alloc_alignment(void **state)
{
	struct arena *a = *state;
	static const size_t sizes[] = { 1, 3, 7, 8, 9, 15, 16, 17, 31, 33, 100, 1, 1, 2 };

	for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		unsigned char *p = arena_alloc(a, sizes[i]);

		assert_non_null(p);
		assert_int_equal((uintptr_t)p % _Alignof(max_align_t), 0);
		memset(p, 0xAB, sizes[i]);
	}
}

/* Consecutive allocations never overlap. */
static void
alloc_distinct(void **state)
{
	struct arena *a = *state;
	char *p[32];

	for (int i = 0; i < 32; i++) {
		assert_non_null(p[i] = arena_alloc(a, 24));
		memset(p[i], 'a' + i % 26, 24);
	}
	for (int i = 0; i < 32; i++)
		for (int k = 0; k < 24; k++)
			assert_int_equal(p[i][k], 'a' + i % 26);
}

/* arena_new clamps the chunk to 1024 bytes. */
static void
new_clamps_chunk(void **state)
{
	struct arena *a = arena_new(0);

	(void)state;
	assert_non_null(a);
	assert_int_equal(arena_capacity(a), 1024);
	arena_free(a);
}

/* Exactly one chunk's worth fits in the first chunk; one byte more needs a second. */
static void
growth_boundary(void **state)
{
	struct arena *a = *state;
	unsigned char *p, *q;

	assert_int_equal(arena_capacity(a), CHUNK);
	assert_non_null(p = arena_alloc(a, CHUNK));
	memset(p, 1, CHUNK);
	assert_int_equal(arena_capacity(a), CHUNK);
	assert_non_null(q = arena_alloc(a, 1));
	assert_int_equal(arena_capacity(a), 2 * CHUNK);
	*q = 2;
	/* The first chunk's bytes survive the growth. */
	for (size_t i = 0; i < CHUNK; i++)
		assert_int_equal(p[i], 1);
}

/* Allocations that together pass a chunk land in a new chunk, old data intact. */
static void
growth_past_chunk(void **state)
{
	struct arena *a = *state;
	char *p, *q;

	assert_non_null(p = arena_alloc(a, 600));
	memset(p, 'p', 600);
	assert_non_null(q = arena_alloc(a, 600));
	memset(q, 'q', 600);
	assert_int_equal(arena_capacity(a), 2 * CHUNK);
	assert_true(q + 600 <= p || p + 600 <= q);
	for (int i = 0; i < 600; i++) {
		assert_int_equal(p[i], 'p');
		assert_int_equal(q[i], 'q');
	}
}

/* One allocation larger than a chunk gets a chunk of its own size. */
static void
big_allocation(void **state)
{
	struct arena *a = *state;
	const size_t big = 100000;
	unsigned char *p;

	assert_non_null(p = arena_alloc(a, big));
	memset(p, 0x5A, big);
	assert_int_equal((uintptr_t)p % _Alignof(max_align_t), 0);
	assert_int_equal(arena_capacity(a), CHUNK + big);
	assert_int_equal(p[0], 0x5A);
	assert_int_equal(p[big - 1], 0x5A);
}

/* Absurd sizes and overflowing products fail cleanly. */
static void
alloc_refuses_overflow(void **state)
{
	struct arena *a = *state;

	assert_null(arena_alloc(a, SIZE_MAX));
	assert_null(arena_alloc(a, SIZE_MAX / 2 + 1));
	assert_null(arena_calloc(a, SIZE_MAX / 2 + 1, 4));
	assert_null(arena_calloc(a, 4, SIZE_MAX / 2 + 1));
	/* The arena is still usable. */
	assert_non_null(arena_alloc(a, 16));
	assert_int_equal(arena_capacity(a), CHUNK);
}

static void
calloc_zeroes(void **state)
{
	struct arena *a = *state;
	unsigned char *p;

	/* Dirty the first chunk, reset, and calloc over the same bytes. */
	memset(arena_alloc(a, 512), 0xFF, 512);
	arena_reset(a);
	assert_non_null(p = arena_calloc(a, 64, 8));
	for (size_t i = 0; i < 512; i++)
		assert_int_equal(p[i], 0);
}

/* ========================================================================
 * Reset
 * ===================================================================== */

/* Reset gives back every chunk but the first, and reuses the first from its start. */
static void
reset_frees_extra_chunks(void **state)
{
	struct arena *a = *state;
	void *first, *again;

	assert_non_null(first = arena_alloc(a, 8));
	for (int i = 0; i < 10; i++)
		assert_non_null(arena_alloc(a, 900));
	assert_non_null(arena_alloc(a, 50000));
	assert_true(arena_capacity(a) > CHUNK);
	arena_reset(a);
	assert_int_equal(arena_capacity(a), CHUNK);
	assert_non_null(again = arena_alloc(a, 8));
	assert_ptr_equal(again, first);
	/* And twice in a row is harmless. */
	arena_reset(a);
	arena_reset(a);
	assert_int_equal(arena_capacity(a), CHUNK);
}

/* ========================================================================
 * Deferred cleanups
 * ===================================================================== */

struct calls {
	int order[8];
	int n;
};

struct tag {
	struct calls *c;
	int           id;
};

static void
record(void *p)
{
	struct tag *t = p;

	t->c->order[t->c->n++] = t->id;
}

/* Cleanups run newest first, once, at reset. */
static void
defer_newest_first(void **state)
{
	struct arena *a = *state;
	struct calls c = { .n = 0 };
	struct tag t[3] = { { &c, 1 }, { &c, 2 }, { &c, 3 } };

	for (int i = 0; i < 3; i++)
		assert_int_equal(arena_defer(a, record, &t[i]), 0);
	assert_int_equal(c.n, 0);
	arena_reset(a);
	assert_int_equal(c.n, 3);
	assert_int_equal(c.order[0], 3);
	assert_int_equal(c.order[1], 2);
	assert_int_equal(c.order[2], 1);
	arena_reset(a);
	assert_int_equal(c.n, 3);
}

/* Cleanups registered across several chunks still all run, in order. */
static void
defer_across_chunks(void **state)
{
	struct arena *a = *state;
	struct calls c = { .n = 0 };
	struct tag t[4] = { { &c, 1 }, { &c, 2 }, { &c, 3 }, { &c, 4 } };

	for (int i = 0; i < 4; i++) {
		assert_int_equal(arena_defer(a, record, &t[i]), 0);
		assert_non_null(arena_alloc(a, 1000));
	}
	assert_true(arena_capacity(a) > CHUNK);
	arena_reset(a);
	assert_int_equal(c.n, 4);
	for (int i = 0; i < 4; i++)
		assert_int_equal(c.order[i], 4 - i);
}

/* arena_free runs pending cleanups too; valgrind checks the malloc is freed. */
static void
defer_on_free(void **state)
{
	struct arena *a = arena_new(CHUNK);
	struct calls c = { .n = 0 };
	struct tag t = { &c, 7 };

	(void)state;
	assert_non_null(a);
	assert_int_equal(arena_defer(a, free, malloc(32)), 0);
	assert_int_equal(arena_defer(a, record, &t), 0);
	arena_free(a);
	assert_int_equal(c.n, 1);
	assert_int_equal(c.order[0], 7);
}

/* ========================================================================
 * Strings
 * ===================================================================== */

static void
printf_formats(void **state)
{
	struct arena *a = *state;
	char *s;

	assert_non_null(s = arena_printf(a, "%s-%d-%05.1f", "x", 42, 3.14159));
	assert_string_equal(s, "x-42-003.1");
	assert_non_null(s = arena_printf(a, "%s", ""));
	assert_string_equal(s, "");
	/* Longer than a chunk: the result gets a chunk of its own. */
	assert_non_null(s = arena_printf(a, "%3000d|", 7));
	assert_int_equal(strlen(s), 3001);
	assert_int_equal(s[2999], '7');
	assert_int_equal(s[3000], '|');
	assert_int_equal(s[0], ' ');
}

static void
strndup_and_strdup(void **state)
{
	struct arena *a = *state;
	const char src[] = "hello, world";
	char *s;

	assert_non_null(s = arena_strndup(a, src, 5));
	assert_string_equal(s, "hello");
	assert_ptr_not_equal(s, src);
	assert_non_null(s = arena_strndup(a, src, 0));
	assert_string_equal(s, "");
	assert_non_null(s = arena_strdup(a, src));
	assert_string_equal(s, src);
	assert_ptr_not_equal(s, src);
	/* strndup copies exactly n bytes, even past an embedded NUL. */
	assert_non_null(s = arena_strndup(a, "ab\0cd", 5));
	assert_memory_equal(s, "ab\0cd", 6);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(alloc_alignment, setup, teardown),
		cmocka_unit_test_setup_teardown(alloc_distinct, setup, teardown),
		cmocka_unit_test(new_clamps_chunk),
		cmocka_unit_test_setup_teardown(growth_boundary, setup, teardown),
		cmocka_unit_test_setup_teardown(growth_past_chunk, setup, teardown),
		cmocka_unit_test_setup_teardown(big_allocation, setup, teardown),
		cmocka_unit_test_setup_teardown(alloc_refuses_overflow, setup, teardown),
		cmocka_unit_test_setup_teardown(calloc_zeroes, setup, teardown),
		cmocka_unit_test_setup_teardown(reset_frees_extra_chunks, setup, teardown),
		cmocka_unit_test_setup_teardown(defer_newest_first, setup, teardown),
		cmocka_unit_test_setup_teardown(defer_across_chunks, setup, teardown),
		cmocka_unit_test(defer_on_free),
		cmocka_unit_test_setup_teardown(printf_formats, setup, teardown),
		cmocka_unit_test_setup_teardown(strndup_and_strdup, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
