/* log.c: structured logging to stderr, one JSON object per line. */
#include "core/log.h"
#include "core/buf.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static const char *program = "tenantry";

void
log_set_program(const char *name)
{
	program = name;
}

static void
put_time(struct buf *b)
{
	struct timespec ts;
	struct tm tm;
	char t[32];

	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	strftime(t, sizeof(t), "%Y-%m-%dT%H:%M:%S", &tm);
	buf_printf(b, "{\"ts\":\"%s.%03ldZ\"", t, ts.tv_nsec / 1000000);
}

/*
 * One write(2) per line, so lines from several workers sharing a log file
 * never interleave (O_APPEND writes below PIPE_BUF are atomic in practice).
 */
static void
emit(struct buf *b)
{
	const char *p = b->p;
	size_t n = b->len;

	while (n > 0) {
		ssize_t w = write(STDERR_FILENO, p, n);

		if (w <= 0)
			break;
		p += w;
		n -= (size_t)w;
	}
}

static void
vlog(const char *level, const char *rid, const char *fmt, va_list ap)
{
	char msg[1024];
	char line[1400];
	struct buf b = BUF_FIXED(line);

	/* A fixed stack buffer: logging must work when malloc does not. */
	vsnprintf(msg, sizeof(msg), fmt, ap);
	b.p[0] = '\0';
	put_time(&b);
	buf_printf(&b, ",\"level\":\"%s\",\"prog\":\"%s\"", level, program);
	if (rid != NULL) {
		buf_puts(&b, ",\"request_id\":\"");
		buf_json_str(&b, rid);
		buf_putc(&b, '"');
	}
	buf_puts(&b, ",\"msg\":\"");
	buf_json_str(&b, msg);
	buf_puts(&b, "\"}\n");
	if (b.oom) {
		/* Too long for the line buffer: say so rather than lose the line. */
		static const char cut[] = "{\"level\":\"error\",\"msg\":\"log line too long\"}\n";
		b.p = (char *)cut;
		b.len = sizeof(cut) - 1;
	}
	emit(&b);
}

#define LOG_FN(fn, level)						\
void									\
fn(const char *rid, const char *fmt, ...)				\
{									\
	va_list ap;							\
	va_start(ap, fmt);						\
	vlog(level, rid, fmt, ap);					\
	va_end(ap);							\
}
LOG_FN(log_error, "error")
LOG_FN(log_warn, "warn")
LOG_FN(log_info, "info")

static void
put_field(struct buf *b, const char *k, const char *v)
{
	buf_printf(b, ",\"%s\":", k);
	if (v == NULL) {
		buf_puts(b, "null");
		return;
	}
	buf_putc(b, '"');
	buf_json_str(b, v);
	buf_putc(b, '"');
}

void
log_access_line(const struct log_access *a)
{
	char line[1400];
	struct buf b = BUF_FIXED(line);
	char path[512];

	/* Paths are attacker-chosen: cap them so the line stays one write. */
	snprintf(path, sizeof(path), "%s", a->path ? a->path : "");
	line[0] = '\0';
	put_time(&b);
	buf_puts(&b, ",\"level\":\"access\"");
	put_field(&b, "request_id", a->request_id);
	put_field(&b, "method", a->method);
	put_field(&b, "path", path);
	put_field(&b, "route", a->route);
	buf_printf(&b, ",\"status\":%d,\"duration_ms\":%.3f", a->status, a->duration_ms);
	put_field(&b, "tenant", a->tenant);
	put_field(&b, "principal", a->principal);
	put_field(&b, "client", a->client);
	if (a->cache != NULL)
		put_field(&b, "cache", a->cache);
	buf_puts(&b, "}\n");
	if (!b.oom)
		emit(&b);
}
