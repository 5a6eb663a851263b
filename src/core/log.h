/* log.h: structured logging to stderr, one JSON object per line. */
#ifndef TENANTRY_LOG_H
#define TENANTRY_LOG_H

#include <stdbool.h>

/*
 * Every line is a JSON object with ts, level and msg. Callers must never pass
 * secrets (passwords, tokens, keys, session ids, conninfo strings with
 * passwords): log the kind of thing that failed, not its value.
 * request_id may be NULL outside a request.
 */
void log_set_program(const char *name);
void log_error(const char *request_id, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
void log_warn(const char *request_id, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
void log_info(const char *request_id, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

struct log_access {
	const char *request_id;
	const char *method;
	const char *path;       /* without query string: queries may hold tokens */
	const char *route;      /* route pattern, or "-" */
	int         status;
	double      duration_ms;
	const char *tenant;     /* resolved tenant id or NULL */
	const char *principal;  /* "anonymous", "user", "api_key", "session" */
	const char *client;
	const char *cache;      /* a cacheable route's "hit", "miss" or "off"; NULL: none */
};
void log_access_line(const struct log_access *a);

#endif
