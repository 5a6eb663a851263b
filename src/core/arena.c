/* arena.c: per-request bump allocator with deferred cleanups. */
#include "core/arena.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct chunk {
	struct chunk *next;
	size_t        size;   /* usable bytes in data[] */
	size_t        used;
	_Alignas(max_align_t) unsigned char data[];
};

struct cleanup {
	struct cleanup *next;
	void          (*fn)(void *);
	void           *p;
};

struct arena {
	struct chunk   *head;   /* current chunk; the first chunk is last */
	struct cleanup *cleanups;
	size_t          chunk;  /* default chunk size */
};

static struct chunk *
chunk_new(size_t size)
{
	struct chunk *c = malloc(sizeof(*c) + size);

	if (c == NULL)
		return NULL;
	c->next = NULL;
	c->size = size;
	c->used = 0;
	return c;
}

/*
 * The arena keeps its first chunk across resets, so a worker serving small
 * requests does no malloc at all in steady state; larger chunks allocated by
 * a big request are returned to the system at reset, which keeps a worker's
 * resident size flat.
 */
struct arena *
arena_new(size_t chunk)
{
	struct arena *a = malloc(sizeof(*a));

	if (a == NULL)
		return NULL;
	a->chunk = chunk < 1024 ? 1024 : chunk;
	a->cleanups = NULL;
	if ((a->head = chunk_new(a->chunk)) == NULL) {
		free(a);
		return NULL;
	}
	return a;
}

static void
run_cleanups(struct arena *a)
{
	struct cleanup *c = a->cleanups;

	/* Cleanup records live in the arena itself: read next before running. */
	a->cleanups = NULL;
	while (c != NULL) {
		struct cleanup *next = c->next;

		c->fn(c->p);
		c = next;
	}
}

void
arena_reset(struct arena *a)
{
	struct chunk *c;

	run_cleanups(a);
	while ((c = a->head)->next != NULL) {
		a->head = c->next;
		free(c);
	}
	a->head->used = 0;
}

void
arena_free(struct arena *a)
{
	if (a == NULL)
		return;
	arena_reset(a);
	free(a->head);
	free(a);
}

void *
arena_alloc(struct arena *a, size_t n)
{
	const size_t align = _Alignof(max_align_t);
	struct chunk *c = a->head;
	size_t off = (c->used + align - 1) & ~(align - 1);
	void *p;

	if (n > SIZE_MAX / 2)
		return NULL;
	if (off > c->size || c->size - off < n) {
		size_t size = n > a->chunk ? n : a->chunk;
		struct chunk *nc = chunk_new(size);

		if (nc == NULL)
			return NULL;
		/*
		 * Keep the first chunk at the tail of the list so reset
		 * can free every chunk but it.
		 */
		nc->next = a->head;
		a->head = nc;
		c = nc;
		off = 0;
	}
	p = c->data + off;
	c->used = off + n;
	return p;
}

void *
arena_calloc(struct arena *a, size_t nmemb, size_t size)
{
	void *p;

	if (size != 0 && nmemb > SIZE_MAX / size)
		return NULL;
	if ((p = arena_alloc(a, nmemb * size)) != NULL)
		memset(p, 0, nmemb * size);
	return p;
}

char *
arena_strndup(struct arena *a, const char *s, size_t n)
{
	char *p = arena_alloc(a, n + 1);

	if (p == NULL)
		return NULL;
	memcpy(p, s, n);
	p[n] = '\0';
	return p;
}

char *
arena_strdup(struct arena *a, const char *s)
{
	return arena_strndup(a, s, strlen(s));
}

char *
arena_vprintf(struct arena *a, const char *fmt, va_list ap)
{
	va_list ap2;
	int n;
	char *p;

	va_copy(ap2, ap);
	n = vsnprintf(NULL, 0, fmt, ap2);
	va_end(ap2);
	if (n < 0 || (p = arena_alloc(a, (size_t)n + 1)) == NULL)
		return NULL;
	vsnprintf(p, (size_t)n + 1, fmt, ap);
	return p;
}

char *
arena_printf(struct arena *a, const char *fmt, ...)
{
	va_list ap;
	char *p;

	va_start(ap, fmt);
	p = arena_vprintf(a, fmt, ap);
	va_end(ap);
	return p;
}

int
arena_defer(struct arena *a, void (*fn)(void *), void *p)
{
	struct cleanup *c = arena_alloc(a, sizeof(*c));

	if (c == NULL) {
		fn(p);
		return -1;
	}
	c->fn = fn;
	c->p = p;
	c->next = a->cleanups;
	a->cleanups = c;
	return 0;
}

size_t
arena_capacity(const struct arena *a)
{
	size_t n = 0;

	for (const struct chunk *c = a->head; c != NULL; c = c->next)
		n += c->size;
	return n;
}
