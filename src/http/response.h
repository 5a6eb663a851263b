/* response.h: the only way anything reaches the client. */
#ifndef TENANTRY_RESPONSE_H
#define TENANTRY_RESPONSE_H

#include <stddef.h>

#include <json-c/json.h>

#include "http/request.h"

/*
 * Writers fill r->hdr and r->out; the pipeline sends them once, after the
 * handler returns. Each writer returns the status it set, so a handler can
 * `return http_error(r, 404, ...)`. Writing a second response replaces the
 * first (body and content headers), which lets the pipeline turn a handler's
 * late failure into a clean error.
 */

/* Add a response header. name and value must not contain CR or LF. */
void http_header(struct req *r, const char *name, const char *value);

/* Serialise obj (ownership passes to the call: it is freed) as JSON. */
int http_json(struct req *r, int status, struct json_object *obj);
/* Send already-serialised JSON text (e.g. built by PostgreSQL). */
int http_json_raw(struct req *r, int status, const char *json, size_t len);
/* The handler wrote the body into r->out itself (a list assembled from rows). */
int http_body_ready(struct req *r, int status, const char *ctype);
int http_text(struct req *r, int status, const char *ctype, const char *body, size_t len);
/* 204 and other bodiless answers. */
int http_empty(struct req *r, int status);

/*
 * The error body of SPEC §3: {"error":{"code","message","request_id"}} plus
 * "details" when given (ownership passes to the call). Adds the headers a
 * status requires: WWW-Authenticate on 401, Retry-After on 503.
 */
int http_error(struct req *r, int status, const char *code, const char *message);
int http_error_details(struct req *r, int status, const char *code,
    const char *message, struct json_object *details);

/*
 * The dashboard's error pages: when set (by the web module at start-up),
 * an error for a request with r->html set goes here instead of becoming
 * JSON: a 401 redirects to the sign-in page, anything else is an HTML page
 * with the same status and message. details are freed by the caller.
 */
extern int (*http_html_error)(struct req *r, int status, const char *code,
    const char *message, struct json_object *details);

/* A 303 See Other to location (a same-site path). */
int http_redirect(struct req *r, const char *location);

/* The generic error for a status, used when a handler set no body. */
int http_error_default(struct req *r, int status);

/* Write status line, headers and body to the FastCGI stream (once). */
void http_send(struct req *r);

/*
 * A streamed response (CSV export): status and headers go out now, the body
 * in pieces through http_stream_write, so memory stays flat however large
 * the body. After http_stream_begin nothing can turn it into an error.
 */
void http_stream_begin(struct req *r, int status, const char *ctype);
bool http_stream_write(struct req *r, const char *p, size_t n);

const char *http_status_text(int status);

#endif
