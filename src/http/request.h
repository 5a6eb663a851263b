/* request.h: one HTTP request as the pipeline sees it, and the parsers that fill it. */
#ifndef TENANTRY_REQUEST_H
#define TENANTRY_REQUEST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <json-c/json.h>

#include "auth/auth.h"
#include "core/arena.h"
#include "core/buf.h"

#define HTTP_BODY_MAX      (64 * 1024)
#define HTTP_QUERY_MAX     (8 * 1024)
#define HTTP_COOKIE_MAX    (8 * 1024)
#define HTTP_PAIRS_MAX     64
#define HTTP_PATH_MAX      2048
#define ROUTE_PARAMS_MAX   4

enum http_method {
	HTTP_GET     = 1 << 0,
	HTTP_HEAD    = 1 << 1,
	HTTP_POST    = 1 << 2,
	HTTP_PUT     = 1 << 3,
	HTTP_PATCH   = 1 << 4,
	HTTP_DELETE  = 1 << 5,
	HTTP_OPTIONS = 1 << 6,
	HTTP_OTHER   = 1 << 7,
};

struct kv {
	const char *key;
	const char *val;
};

struct route;
struct worker;

/*
 * Everything in a req lives in its arena (r->a) and dies when the request
 * ends. Strings from the FastCGI environment are borrowed and live as long.
 */
struct req {
	struct arena     *a;
	struct worker    *w;
	double            t0;

	/* Input, filled by http_req_read(). */
	enum http_method  method;
	const char       *method_name;
	const char       *path;          /* decoded, no query string */
	const char       *query;         /* raw query string, may be "" */
	struct kv        *qv;            /* decoded query parameters */
	size_t            nqv;
	const char       *request_id;
	const char       *client;        /* the client's address: REMOTE_ADDR, or from a trusted proxy's X-Forwarded-For */
	const char       *forwarded_for; /* X-Forwarded-For as sent (read only behind a trusted proxy) */
	const char       *content_type;
	long long         content_length;
	const char       *authorization;
	const char       *x_tenant_id;
	const char       *cookie_header;
	const char       *origin;
	const char       *if_match;
	const char       *host;          /* HTTP_HOST */
	const char       *user_agent;
	const char       *accept;
	void             *fcgi;          /* FCGX_Request *, for the body reader */

	/* Routing. */
	const struct route *route;
	const char       *param[ROUTE_PARAMS_MAX];

	/* Body: read and parsed by the pipeline only when the route wants it. */
	char             *body;
	size_t            body_len;
	struct json_object *json;        /* owned by the arena */
	struct kv        *form;          /* dashboard POSTs: the decoded form fields */
	size_t            nform;
	bool              html;          /* a dashboard page: errors are HTML pages */
	const char       *web_nav;       /* JSON array of a session user's workspaces (ST_WEB_NAV) */

	/* Authority, filled by auth_authorize(). */
	struct principal  who;
	struct tenant_ctx tenant;

	/* The worker's cache for this request (src/auth/authz.c). */
	bool              cache_ok;      /* listening since before the request: may read and fill */
	bool              no_cache;      /* the client asks for the database's word (Cache-Control: no-cache,
	                                    max-age=0, Pragma: no-cache, or the dashboard's fresh cookie) */
	uint64_t          cache_since;   /* cache_seq() when the request began */
	const char       *cache_use;     /* for the access log: "hit", "miss", "off" (not listening), "bypass"
	                                    (no_cache), NULL: not cacheable */
	bool              cached;        /* the response came from the cache: no handler runs */
	const void       *meter_catalog; /* the cached meters of every tier, when a read uses them (api/usage.c) */
	const char       *page_cached;   /* a page's data from the cache (RF_HTML | RF_CACHE): the */
	size_t            page_cached_len; /* handler renders it; NULL: read it (arena copy) */

	/* Output, written only through response.h. */
	int               status;
	struct buf       *hdr;
	struct buf       *out;
	const char       *ctype;         /* Content-Type of out, NULL if none */
	bool              responded;
	bool              streamed;      /* headers already sent (http_stream_begin) */
	bool              head_only;
};

/* ---- Pure parsers (unit-tested and fuzzed) ---------------------------- */

enum http_parse {
	PARSE_OK = 0,
	PARSE_TOO_LONG,
	PARSE_TOO_MANY,
	PARSE_BAD_ENCODING,   /* bad %XX, NUL, or invalid UTF-8 */
	PARSE_NOMEM,
	PARSE_REPEATED,       /* a query parameter given twice (every one is single-valued) */
};

/*
 * Parse an application/x-www-form-urlencoded string ("a=1&b=%20x+y") into
 * decoded pairs in the arena. A key without '=' gets the value "". Empty
 * segments ("a=1&&b=2") are skipped. Repeated keys are kept in order.
 */
enum http_parse http_query_parse(struct arena *a, const char *s, struct kv **out, size_t *n);
/* Parse a Cookie header ("a=1; b=2"); values are not percent-decoded. */
enum http_parse http_cookie_parse(struct arena *a, const char *s, struct kv **out, size_t *n);
/* Percent-decode a request path; refuses NUL, invalid UTF-8, over HTTP_PATH_MAX. */
enum http_parse http_path_decode(struct arena *a, const char *raw, size_t len, const char **out);
/* First value of key, or NULL. */
const char *http_kv_get(const struct kv *v, size_t n, const char *key);
/* "application/json" with optional parameters, any case. */
bool http_media_is_json(const char *content_type);
enum http_method http_method_parse(const char *s);
const char *http_method_name(enum http_method m);

/* ---- FastCGI glue ------------------------------------------------------ */

/* Fill r's input fields from the FastCGI environment (not the body). */
enum http_parse http_req_read(struct req *r, char **envp);
/*
 * Read the body into the arena, at most HTTP_BODY_MAX bytes. Returns 0, 413
 * when larger, or 400 when the body is shorter than Content-Length.
 */
int http_body_read(struct req *r);

#endif
