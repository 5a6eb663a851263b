/* buf.h: growable byte buffer owned by its creator (malloc-backed). */
#ifndef TENANTRY_BUF_H
#define TENANTRY_BUF_H

#include <stdbool.h>
#include <stddef.h>

/*
 * A buf owns its bytes. The worker keeps one for response headers and one for
 * the body, clears them per request (keeping small capacity, releasing large),
 * so steady-state requests do not allocate. p is always NUL-terminated when
 * non-NULL. A failed grow sets oom and makes later appends no-ops, so a
 * writer can append freely and check once at the end.
 */
struct buf {
	char  *p;
	size_t len;
	size_t cap;
	bool   oom;
	bool   fixed;  /* p is caller-owned storage of cap bytes: never realloc */
};

/* A buf over caller storage (e.g. a stack array): never grows, sets oom. */
#define BUF_FIXED(arr) { .p = (arr), .len = 0, .cap = sizeof(arr), .oom = false, .fixed = true }

void buf_init(struct buf *b);
void buf_release(struct buf *b);
/* Empty the buffer; free it if it grew past keep bytes. */
void buf_clear(struct buf *b, size_t keep);
bool buf_append(struct buf *b, const void *p, size_t n);
bool buf_puts(struct buf *b, const char *s);
bool buf_putc(struct buf *b, char c);
bool buf_printf(struct buf *b, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/* Append s as the inside of a JSON string (quotes not included). */
bool buf_json_str(struct buf *b, const char *s);

#endif
