/* main.c: the worker: FastCGI accept loop and the request pipeline, in one straight line. */
#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <malloc.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <fcgiapp.h>

#include "api/api.h"
#include "auth/authz.h"
#include "auth/password.h"
#include "auth/session.h"
#include "core/log.h"
#include "core/util.h"
#include "http/response.h"
#include "http/router.h"
#include "http/validate.h"
#include "http/worker.h"
#include "web/web.h"

static volatile sig_atomic_t stopping;

/* SIGTERM: finish the request in flight, then leave the accept loop. */
static void
on_term(int sig)
{
	(void)sig;
	stopping = 1;
	FCGX_ShutdownPending();
}

static const char *
principal_kind(const struct req *r)
{
	switch (r->who.cred) {
	case CRED_IDENTITY: return "identity_token";
	case CRED_TENANT:   return "tenant_token";
	case CRED_API_KEY:  return "api_key";
	case CRED_SESSION:  return "session";
	default:            return "anonymous";
	}
}

static void
put_json(void *o)
{
	json_object_put(o);
}

/*
 * Read, check and parse the JSON body of an RF_JSON route. Returns 0 or the
 * error status it answered: 415 not application/json, 413 over 64 KiB,
 * 400 unreadable or not one JSON object.
 */
static int
read_json_body(struct req *r)
{
	int st;

	if (!http_media_is_json(r->content_type))
		return http_error_default(r, 415);
	if ((st = http_body_read(r)) != 0)
		return st == 413 ? http_error_default(r, 413)
		    : http_error(r, 400, "invalid_request", "the body is incomplete");
	r->json = http_json_parse(r->body, r->body_len);
	if (r->json == NULL || !json_object_is_type(r->json, json_type_object)) {
		json_object_put(r->json);
		r->json = NULL;
		return http_error(r, 400, "invalid_request", "the body must be one JSON object");
	}
	arena_defer(r->a, put_json, r->json);
	return 0;
}

/*
 * A dashboard POST's form (application/x-www-form-urlencoded) into
 * r->form. Returns 0 or the error status it answered: 415, 413, 400.
 */
static int
read_form_body(struct req *r)
{
	const char *ct = r->content_type;
	int st;

	if (ct == NULL || strncasecmp(ct, "application/x-www-form-urlencoded", 33) != 0 ||
	    (ct[33] != '\0' && ct[33] != ';' && ct[33] != ' '))
		return http_error(r, 415, "unsupported_media_type", "this form must be sent as a web form");
	if ((st = http_body_read(r)) != 0)
		return st == 413 ? http_error_default(r, 413)
		    : http_error(r, 400, "invalid_request", "the form is incomplete");
	if (http_query_parse(r->a, r->body, &r->form, &r->nform) != PARSE_OK)
		return http_error(r, 400, "invalid_request", "the form is malformed");
	return 0;
}

/*
 * Before a route is found (404, 405, a malformed path): answer with an HTML
 * page only a browser asking for HTML, outside the JSON API's paths; every
 * other client keeps the API's JSON error shape.
 */
static bool
wants_page(const struct req *r)
{
	const char *p = r->path;

	if (strncmp(p, "/api", 4) == 0 && (p[4] == '\0' || p[4] == '/'))
		return false;
	if (strncmp(p, "/admin/billing/", 15) == 0 || strcmp(p, "/health") == 0 || strcmp(p, "/ready") == 0)
		return false;
	return r->accept != NULL && strstr(r->accept, "text/html") != NULL;
}

static int
allow_header(struct req *r, unsigned allow)
{
	static const enum http_method order[] = { HTTP_GET, HTTP_HEAD, HTTP_POST, HTTP_PUT,
	    HTTP_PATCH, HTTP_DELETE };
	char v[64] = "";

	for (size_t i = 0; i < sizeof(order) / sizeof(order[0]); i++) {
		if (!(allow & order[i]))
			continue;
		if (v[0] != '\0')
			strcat(v, ", ");
		strcat(v, http_method_name(order[i]));
	}
	http_header(r, "Allow", v);
	return http_error(r, 405, "method_not_allowed", "this method is not allowed here");
}

/* A request id for requests that arrive without one from nginx. */
static const char *
make_request_id(struct arena *a)
{
	char *id = arena_alloc(a, 33);

	if (id != NULL && !core_random_base62(id, 32))
		return NULL;
	return id;
}

/* nginx's $request_id is 32 hex digits; anything odd is replaced, never echoed. */
static bool
request_id_ok(const char *s)
{
	size_t n = 0;

	if (s == NULL)
		return false;
	for (; s[n] != '\0'; n++)
		if (n >= 64 || !(isalnum((unsigned char)s[n]) || s[n] == '-' || s[n] == '_'))
			return false;
	return n > 0;
}

/*
 * The pipeline: parse -> route (404/405/400) -> body (415/413/400) ->
 * authorise (401/403/400/404/503, with the prefetch reads) -> handler.
 * Returns the status; the response is in r; finish_tx() ends the
 * transaction.
 */
static int
serve(struct req *r, char **envp)
{
	struct db_batch pre;
	enum http_parse pe;
	unsigned allow;
	int st;

	pe = http_req_read(r, envp);
	if (!request_id_ok(r->request_id))
		r->request_id = make_request_id(r->a);
	if (pe != PARSE_OK)
		return http_error(r, pe == PARSE_TOO_LONG || pe == PARSE_TOO_MANY ? 414 : 400,
		    "invalid_request", "the request is malformed (path, query string or a repeated header)");
	r->head_only = r->method == HTTP_HEAD;
	r->html = wants_page(r);

	switch (http_route_find(routes, nroutes, r->method, r->path, r->a, &r->route, r->param,
	    &allow)) {
	case ROUTE_FOUND:
		r->html = (r->route->flags & RF_HTML) != 0;
		break;
	case ROUTE_BAD_METHOD:
		return allow_header(r, allow);
	case ROUTE_BAD_PARAM:
		return http_error(r, 400, "invalid_request", "a path parameter is malformed");
	default:
		return http_error(r, 404, "not_found", "no such route");
	}

	if ((r->route->flags & RF_JSON) && (st = read_json_body(r)) != 0)
		return st;
	if (r->html && r->method == HTTP_POST && (st = read_form_body(r)) != 0)
		return st;
	if ((st = auth_authorize(r, &pre)) != 0)
		return st;
	if (r->html && r->method == HTTP_POST && (st = auth_csrf_verify(r)) != 0)
		return st;
	return r->route->handler(r, &pre);
}

/*
 * End the request's transaction, whatever path serve() took: commit only
 * if the response is a success, else roll back (an authorisation failure
 * after BEGIN included). A failed commit turns the response into an error.
 */
static int
finish_tx(struct req *r, int st)
{
	enum db_status ds;

	if (!db_in_tx(r->w->db))
		return st;
	if (st >= 400 || r->streamed) {
		db_rollback(r->w->db, r->request_id);
	} else if ((ds = db_commit(r->w->db, r->a, r->request_id)) != DB_OK) {
		db_rollback(r->w->db, r->request_id);
		st = api_db_fail(r, ds);
	}
	return st;
}

/*
 * SIGTERM is blocked while a request is served, so no system call of the
 * request (libfcgi's reads and writes do not retry on EINTR) is interrupted;
 * it is delivered while the worker waits in accept(), which then fails with
 * EINTR (FCGI_FAIL_ACCEPT_ON_INTR) and the loop ends.
 */
static int
run(struct worker *w)
{
	FCGX_Request fr;
	sigset_t term, none;

	sigemptyset(&term);
	sigaddset(&term, SIGTERM);
	sigaddset(&term, SIGINT);
	sigemptyset(&none);

	if (FCGX_InitRequest(&fr, 0, FCGI_FAIL_ACCEPT_ON_INTR) != 0) {
		log_error(NULL, "FCGX_InitRequest failed");
		return 1;
	}
	for (;;) {
		struct req r = { .a = w->a, .w = w, .fcgi = &fr, .hdr = &w->hdr, .out = &w->out };
		struct log_access la;
		int st, accepted;
		bool big;

		sigprocmask(SIG_SETMASK, &none, NULL);
		accepted = stopping ? -1 : FCGX_Accept_r(&fr);
		sigprocmask(SIG_BLOCK, &term, NULL);
		if (accepted < 0)
			break;

		r.t0 = core_mono_ms();
		st = finish_tx(&r, serve(&r, fr.envp));
		if (!r.streamed && (!r.responded || w->out.oom || w->hdr.oom)) {
			buf_clear(&w->hdr, 4096);
			http_error_default(&r, st >= 400 ? st : 500);
		}
		http_send(&r);
		la = (struct log_access){
			.request_id = r.request_id, .method = r.method_name, .path = r.path,
			.route = r.route ? r.route->pattern : "-", .status = r.status,
			.duration_ms = core_mono_ms() - r.t0,
			.tenant = r.tenant.present ? r.tenant.id : NULL,
			.principal = principal_kind(&r), .client = r.client,
		};
		log_access_line(&la);
		FCGX_Finish_r(&fr);
		/* Nothing of this request survives into the next. */
		big = r.streamed || arena_capacity(w->a) > 1024 * 1024 || w->out.cap > 256 * 1024;
		arena_reset(w->a);
		buf_clear(&w->hdr, 16 * 1024);
		buf_clear(&w->out, 256 * 1024);
		/* After an unusually large request, hand the freed memory back. */
		if (big)
			malloc_trim(0);
	}
	FCGX_Free(&fr, 1);
	return 0;
}

/*
 * spawn-fcgi points a worker's stderr at /dev/null; TENANTRY_LOG_FILE names
 * a file (opened for append) to write the log lines to instead.
 */
static bool
log_redirect(const char *path)
{
	int fd;

	if (path == NULL || *path == '\0')
		return true;
	if ((fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0640)) < 0) {
		fprintf(stderr, "tenantry.fcgi: cannot open TENANTRY_LOG_FILE %s: %s\n", path, strerror(errno));
		return false;
	}
	if (fd != STDERR_FILENO) {
		dup2(fd, STDERR_FILENO);
		close(fd);
	}
	return true;
}

int
main(int argc, char **argv)
{
	struct worker w;
	struct sigaction sa;
	char err[256];
	int rc;

	log_set_program("tenantry.fcgi");
	/*
	 * A fixed mmap threshold: glibc otherwise raises it after the first
	 * Argon2 buffer (19 MiB) is freed, and every later hash would leave
	 * that much on the heap. With it, a worker's RSS stays small and flat.
	 */
	mallopt(M_MMAP_THRESHOLD, 256 * 1024);
	mallopt(M_TRIM_THRESHOLD, 1024 * 1024);
	if (argc > 1 && strcmp(argv[1], "--version") == 0) {
		printf("tenantry.fcgi %s\n", PACKAGE_VERSION);
		return 0;
	}
	memset(&w, 0, sizeof(w));
	if (!log_redirect(getenv("TENANTRY_LOG_FILE")))
		return 1;
	if (!config_load(&w.cfg, true, err, sizeof(err))) {
		log_error(NULL, "refusing to start: %s", err);
		return 1;
	}
	w.jwt = (struct jwt_key){ w.cfg.jwt_secret, w.cfg.jwt_secret_len, w.cfg.jwt_issuer };
	if (!web_init(&w, err, sizeof(err))) {
		log_error(NULL, "refusing to start: %s", err);
		return 1;
	}
	if (FCGX_Init() != 0 || (w.a = arena_new(64 * 1024)) == NULL ||
	    (w.db = db_new(w.cfg.database_url, w.cfg.db_connect_timeout, "tenantry.fcgi")) == NULL) {
		log_error(NULL, "refusing to start: initialisation failed");
		return 1;
	}
	buf_init(&w.hdr);
	buf_init(&w.out);

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_term;
	sigemptyset(&sa.sa_mask);
	sa.sa_flags = 0;   /* no SA_RESTART: accept() must return EINTR */
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);

	log_info(NULL, "worker %ld started", (long)getpid());
	rc = run(&w);
	log_info(NULL, "worker %ld stopping", (long)getpid());
	db_free(w.db);
	web_free(&w);
	arena_free(w.a);
	buf_release(&w.hdr);
	buf_release(&w.out);
	return rc;
}
