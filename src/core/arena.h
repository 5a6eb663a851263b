/* arena.h: per-request bump allocator with deferred cleanups. */
#ifndef TENANTRY_ARENA_H
#define TENANTRY_ARENA_H

#include <stdarg.h>
#include <stddef.h>

struct arena;

/*
 * An arena hands out memory that lives until arena_reset() or arena_free().
 * One arena belongs to the worker and is reset at the end of every request,
 * so handlers never free what they allocate from it. Allocation failure is
 * fatal to the request only: arena_alloc returns NULL and callers give up.
 */
struct arena *arena_new(size_t chunk);
void          arena_free(struct arena *a);
void          arena_reset(struct arena *a);

void *arena_alloc(struct arena *a, size_t n);
void *arena_calloc(struct arena *a, size_t nmemb, size_t size);
char *arena_strdup(struct arena *a, const char *s);
char *arena_strndup(struct arena *a, const char *s, size_t n);
char *arena_printf(struct arena *a, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
char *arena_vprintf(struct arena *a, const char *fmt, va_list ap)
	__attribute__((format(printf, 2, 0)));

/*
 * Run fn(p) when the arena is next reset or freed, newest first. This is how
 * objects owned by other libraries (PGresult, json_object) get the request's
 * lifetime. Returns 0, or -1 when out of memory (fn has then already run).
 */
int arena_defer(struct arena *a, void (*fn)(void *), void *p);

/* Bytes currently held by the arena's chunks (for tests and the RSS check). */
size_t arena_capacity(const struct arena *a);

#endif
