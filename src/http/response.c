/* response.c: the only way anything reaches the client. */
#include "http/response.h"
#include "core/log.h"

#include <stdio.h>
#include <string.h>

#include <fcgiapp.h>

/* Headers the worker sets on every response; nginx adds the TLS-level ones. */
static const char common_headers[] =
	"X-Content-Type-Options: nosniff\r\n"
	"Cache-Control: no-store\r\n";

const char *
http_status_text(int status)
{
	switch (status) {
	case 200: return "OK";
	case 201: return "Created";
	case 202: return "Accepted";
	case 204: return "No Content";
	case 303: return "See Other";
	case 304: return "Not Modified";
	case 400: return "Bad Request";
	case 401: return "Unauthorized";
	case 403: return "Forbidden";
	case 404: return "Not Found";
	case 405: return "Method Not Allowed";
	case 409: return "Conflict";
	case 410: return "Gone";
	case 412: return "Precondition Failed";
	case 413: return "Payload Too Large";
	case 414: return "URI Too Long";
	case 415: return "Unsupported Media Type";
	case 422: return "Unprocessable Content";
	case 429: return "Too Many Requests";
	case 500: return "Internal Server Error";
	case 503: return "Service Unavailable";
	default:  return "Unknown";
	}
}

void
http_header(struct req *r, const char *name, const char *value)
{
	/* Refuse header injection outright: a bug here must not split a response. */
	if (strpbrk(name, "\r\n:") != NULL || strpbrk(value, "\r\n") != NULL) {
		log_error(r->request_id, "refused header %s with CR/LF", name);
		return;
	}
	buf_puts(r->hdr, name);
	buf_puts(r->hdr, ": ");
	buf_puts(r->hdr, value);
	buf_puts(r->hdr, "\r\n");
}

/*
 * The content type is kept apart from the handler's headers so a replaced
 * response does not carry two Content-Types; http_send writes it.
 */
static int
set_body(struct req *r, int status, const char *ctype, const char *body, size_t len)
{
	buf_clear(r->out, 64 * 1024);
	buf_append(r->out, body, len);
	r->status = status;
	r->responded = true;
	r->ctype = ctype;
	return status;
}

int
http_body_ready(struct req *r, int status, const char *ctype)
{
	r->status = status;
	r->responded = true;
	r->ctype = ctype;
	return status;
}

int
http_json_raw(struct req *r, int status, const char *json, size_t len)
{
	return set_body(r, status, "application/json", json, len);
}

int
http_json(struct req *r, int status, struct json_object *obj)
{
	size_t len;
	const char *s = json_object_to_json_string_length(obj,
	    JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE, &len);

	if (s == NULL) {
		json_object_put(obj);
		return http_error(r, 500, "internal", "internal error");
	}
	set_body(r, status, "application/json", s, len);
	json_object_put(obj);
	return status;
}

int
http_text(struct req *r, int status, const char *ctype, const char *body, size_t len)
{
	return set_body(r, status, ctype, body, len);
}

int
http_empty(struct req *r, int status)
{
	return set_body(r, status, NULL, "", 0);
}

int (*http_html_error)(struct req *, int, const char *, const char *, struct json_object *);

int
http_redirect(struct req *r, const char *location)
{
	http_header(r, "Location", location);
	return set_body(r, 303, NULL, "", 0);
}

int
http_error_details(struct req *r, int status, const char *code, const char *message,
    struct json_object *details)
{
	struct json_object *root, *err;

	if (status == 503)
		http_header(r, "Retry-After", "5");   /* pages and JSON alike */
	if (r->html && http_html_error != NULL) {
		int st = http_html_error(r, status, code, message, details);

		json_object_put(details);
		return st;
	}
	root = json_object_new_object();
	err = json_object_new_object();

	json_object_object_add(err, "code", json_object_new_string(code));
	json_object_object_add(err, "message", json_object_new_string(message));
	json_object_object_add(err, "request_id",
	    r->request_id ? json_object_new_string(r->request_id) : NULL);
	if (details != NULL)
		json_object_object_add(err, "details", details);
	json_object_object_add(root, "error", err);
	if (status == 401)
		http_header(r, "WWW-Authenticate", "Bearer realm=\"tenantry\"");
	return http_json(r, status, root);
}

int
http_error(struct req *r, int status, const char *code, const char *message)
{
	return http_error_details(r, status, code, message, NULL);
}

int
http_error_default(struct req *r, int status)
{
	switch (status) {
	case 400: return http_error(r, 400, "invalid_request", "the request is malformed");
	case 401: return http_error(r, 401, "unauthenticated", "authentication required");
	case 403: return http_error(r, 403, "permission_denied", "you may not do this");
	case 404: return http_error(r, 404, "not_found", "no such resource");
	case 405: return http_error(r, 405, "method_not_allowed", "this method is not allowed here");
	case 412: return http_error(r, 412, "concurrent_update", "the resource changed since you read it");
	case 409: return http_error(r, 409, "conflict", "the request conflicts with existing data");
	case 413: return http_error(r, 413, "payload_too_large", "the request body is larger than 64 KiB");
	case 415: return http_error(r, 415, "unsupported_media_type", "the body must be application/json");
	case 422: return http_error(r, 422, "invalid_settings", "some settings are not valid");
	case 429: return http_error(r, 429, "rate_limited", "too many requests");
	case 503: return http_error(r, 503, "unavailable", "the service is temporarily unavailable");
	default:
		if (status >= 500)
			return http_error(r, 500, "internal", "internal error");
		return http_error(r, status, "invalid_request", http_status_text(status));
	}
}

/* Status line and headers; content_length < 0: none (a streamed body). */
static void
send_head(struct req *r, long long content_length)
{
	FCGX_Request *f = r->fcgi;
	char line[160];
	int n;

	n = snprintf(line, sizeof(line), "Status: %d %s\r\n", r->status, http_status_text(r->status));
	FCGX_PutStr(line, n, f->out);
	if (r->ctype != NULL && r->status != 204) {
		n = snprintf(line, sizeof(line), "Content-Type: %s%s\r\n", r->ctype,
		    strncmp(r->ctype, "text/", 5) == 0 ? "; charset=utf-8" : "");
		FCGX_PutStr(line, n, f->out);
		if (content_length >= 0) {
			n = snprintf(line, sizeof(line), "Content-Length: %lld\r\n", content_length);
			FCGX_PutStr(line, n, f->out);
		}
	}
	FCGX_PutStr(common_headers, sizeof(common_headers) - 1, f->out);
	if (r->request_id != NULL) {
		n = snprintf(line, sizeof(line), "X-Request-Id: %.100s\r\n", r->request_id);
		FCGX_PutStr(line, n, f->out);
	}
	FCGX_PutStr(r->hdr->p ? r->hdr->p : "", (int)r->hdr->len, f->out);
	FCGX_PutStr("\r\n", 2, f->out);
}

void
http_send(struct req *r)
{
	if (r->streamed)
		return;   /* already on its way */
	send_head(r, (long long)r->out->len);
	if (!r->head_only && r->status != 204 && r->out->len > 0)
		FCGX_PutStr(r->out->p, (int)r->out->len, ((FCGX_Request *)r->fcgi)->out);
}

void
http_stream_begin(struct req *r, int status, const char *ctype)
{
	r->status = status;
	r->ctype = ctype;
	r->responded = true;
	r->streamed = true;
	send_head(r, -1);
}

bool
http_stream_write(struct req *r, const char *p, size_t n)
{
	FCGX_Request *f = r->fcgi;

	if (r->head_only || n == 0)
		return true;
	return FCGX_PutStr(p, (int)n, f->out) == (int)n;
}
