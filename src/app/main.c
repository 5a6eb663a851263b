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
#include <poll.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include <fastcgi.h>
#include <fcgiapp.h>

#include "api/api.h"
#include "api/usage.h"
#include "auth/authz.h"
#include "auth/password.h"
#include "auth/rate.h"
#include "auth/session.h"
#include "core/cache.h"
#include "core/log.h"
#include "core/netaddr.h"
#include "core/util.h"
#include "db/listen.h"
#include "http/response.h"
#include "app/routes.h"
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
	const char *why;
	int st;

	if (!http_media_is_json(r->content_type))
		return http_error_default(r, 415);
	if ((st = http_body_read(r)) != 0)
		return st == 413 ? http_error_default(r, 413)
		    : http_error(r, 400, "invalid_request", "the body is incomplete");
	r->json = http_json_parse_why(r->body, r->body_len, &why);
	if (r->json == NULL || !json_object_is_type(r->json, json_type_object)) {
		json_object_put(r->json);
		r->json = NULL;
		if (why != NULL) {
			struct json_object *details = json_object_new_array(), *d = json_object_new_object();

			json_object_object_add(d, "field", json_object_new_string(""));
			json_object_object_add(d, "problem", json_object_new_string(why));
			json_object_array_add(details, d);
			return http_error_details(r, 400, "invalid_request", "the body must be one JSON object", details);
		}
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
 * The address the request comes from (the allow-lists, the login throttle,
 * the logs): nginx's REMOTE_ADDR, or behind a trusted proxy the client it
 * names in X-Forwarded-For (core_client_addr). A REMOTE_ADDR that is no IP
 * address (a Unix socket) stays as it is.
 */
static void
client_address(struct req *r)
{
	char *a;

	/* No trusted proxy (the default): REMOTE_ADDR as nginx gave it, nothing to parse. */
	if (r->client == NULL || core_cidr_list_empty(r->w->cfg.trusted_proxies) ||
	    (a = arena_alloc(r->a, 64)) == NULL)
		return;
	if (core_client_addr(r->client, r->forwarded_for, r->w->cfg.trusted_proxies, a, 64))
		r->client = a;
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
	client_address(r);
	/* The client asks for the database's word: no cached answer (nor context) for it. */
	if (r->no_cache || auth_fresh_cookie(r)) {
		r->no_cache = true;
		r->cache_ok = false;
	}
	if (pe == PARSE_REPEATED)
		return http_error(r, 400, "invalid_request", "a query parameter is given more than once");
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
	if (r->cached)
		return r->status;   /* answered from the worker's cache */
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

/* ---- Between requests: invalidations, rate flushes, figures -------------------- */

/*
 * The path as the access line shows it: a route whose path holds a
 * credential (RF_SECRET_PATH) is logged as its pattern, and so is any path
 * under such a route's fixed prefix that matched nothing ("/invite/x/y").
 */
static const char *
log_path(const struct req *r)
{
	if (r->path == NULL)
		return NULL;
	if (r->route != NULL)
		return (r->route->flags & RF_SECRET_PATH) ? r->route->pattern : r->path;
	/* Matched nothing (404, 405): only then is the table searched. */
	for (size_t i = 0; i < nroutes; i++) {
		const char *pat = routes[i].pattern, *brace = strchr(pat, '{');

		if ((routes[i].flags & RF_SECRET_PATH) && brace != NULL &&
		    strncmp(r->path, pat, (size_t)(brace - pat)) == 0)
			return pat;
	}
	return r->path;
}

/* A notification's payload names one fact ("t:<id>", "u:<id>", "catalog"...), or "*": all. */
static void
on_notify(void *arg, const char *payload)
{
	struct worker *w = arg;

	if (strcmp(payload, "*") == 0)
		cache_clear(w->cache);
	else
		cache_invalidate(w->cache, cache_tag(payload, strlen(payload)));
}

/* The cache's and the rate counters' figures, in the log once a minute. */
static void
log_figures(struct worker *w, double now)
{
	static double last;
	struct cache_stats cs;
	struct rate_stats rs;

	if (last == 0)
		last = now;
	if (now - last < 60000.0)
		return;
	last = now;
	cache_stats(w->cache, &cs);
	rate_stats(w->rate, &rs);
	log_info(NULL, "figures: cache %s, hits %llu, misses %llu, invalidations %llu, clears %llu, "
	    "evictions %llu, entries %zu, bytes %zu; rate flushes %llu (%llu hits, %llu failed), "
	    "max flush lag %.1f ms, counters %zu",
	    !cache_enabled(w->cache) ? "disabled" : w->cache_live ? "live" : "off (not listening)",
	    (unsigned long long)cs.hits, (unsigned long long)cs.misses,
	    (unsigned long long)cs.invalidations, (unsigned long long)cs.clears,
	    (unsigned long long)cs.evictions, cs.entries, cs.bytes, rs.flushes, rs.flushed_hits,
	    rs.flush_failures, rs.max_lag_ms, rs.counters);
}

/* After a request's answer is on its way (and when idle): flush the read counts that are due. */
static void
flush_due(struct worker *w)
{
	if (rate_due(w->rate, core_mono_ms())) {
		rate_flush(w->rate, w->db, w->a, (long long)time(NULL), NULL);
		arena_reset(w->a);
	}
}

/*
 * SIGTERM stays blocked while the worker is busy (see run()); a worker that
 * never goes idle looks for a pending one ten times a second.
 */
static void
term_pending(double now)
{
	static double last;
	sigset_t set;

	if (now - last < 100.0)
		return;
	last = now;
	if (sigpending(&set) == 0 && (sigismember(&set, SIGTERM) == 1 || sigismember(&set, SIGINT) == 1)) {
		stopping = 1;
		FCGX_ShutdownPending();
	}
}

/*
 * Before every request (and when an idle worker wakes): apply every
 * invalidation that has arrived (SPEC §2: "dropped before that worker
 * answers anything after the notification arrived"), drop everything when
 * the listening connection came or went, take the listener's latest
 * revalidation.
 */
static void
housekeeping(struct worker *w)
{
	double now = core_mono_ms();
	bool changed = false;

	term_pending(now);
	if (cache_enabled(w->cache)) {
		w->cache_live = db_listen_poll(w->listen, now, &changed, on_notify, w);
		if (changed)
			cache_clear(w->cache);
		if (w->cache_live)
			cache_validated(w->cache, db_listen_validated(w->listen));
	}
	log_figures(w, now);
}

/*
 * Wait for a connection, but no longer than until the unflushed counts
 * fall due, and at most a second (to drain notifications, so the
 * listening connection never backs up PostgreSQL's notification queue).
 * SIGTERM is let in only here (ppoll's mask).
 */
static void
idle_wait(const struct worker *w, const sigset_t *unblocked)
{
	double due = rate_due_in(w->rate, core_mono_ms());
	struct pollfd p = { .fd = FCGI_LISTENSOCK_FILENO, .events = POLLIN };
	struct timespec ts = { 1, 0 };

	if (due >= 0 && due < 1000) {
		ts.tv_sec = 0;
		ts.tv_nsec = ((long)due + 1) * 1000000L;
	}
	ppoll(&p, 1, &ts, unblocked);
}

/*
 * SIGTERM stays blocked but while the worker waits in ppoll(), so no system
 * call of a request (libfcgi's reads and writes do not retry on EINTR) is
 * ever interrupted; then stopping ends the loop (a worker too busy to wait
 * finds it pending: term_pending()). The listening socket is
 * non-blocking (main): accept() fails with EAGAIN when there is nothing to
 * take (or another worker took it first), and a busy worker goes from one
 * request to the next without waiting in poll at all.
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
	sigprocmask(SIG_BLOCK, &term, NULL);

	if (FCGX_InitRequest(&fr, 0, FCGI_FAIL_ACCEPT_ON_INTR) != 0) {
		log_error(NULL, "FCGX_InitRequest failed");
		return 1;
	}
	for (;;) {
		struct req r = { .a = w->a, .w = w, .fcgi = &fr, .hdr = &w->hdr, .out = &w->out };
		struct log_access la;
		int st, accepted;
		bool big;

		if (stopping)
			break;
		accepted = FCGX_Accept_r(&fr);
		if (accepted == -EAGAIN || accepted == -EWOULDBLOCK || accepted == -EINTR) {
			/* Nothing for us yet: keep house, wait, try again. */
			housekeeping(w);
			flush_due(w);
			idle_wait(w, &none);
			continue;
		}
		if (accepted < 0)
			break;

		housekeeping(w);
		r.t0 = core_mono_ms();
		r.cache_ok = w->cache_live;
		r.cache_since = cache_seq(w->cache);
		st = finish_tx(&r, serve(&r, fr.envp));
		/* A dashboard form that changed something: the next pages read the database (read-your-writes). */
		if (r.route != NULL && (r.route->flags & RF_HTML) && r.method == HTTP_POST && st < 400)
			auth_fresh_set_cookie(&r);
		auth_cache_store(&r, st);
		if (!r.streamed && (!r.responded || w->out.oom || w->hdr.oom)) {
			buf_clear(&w->hdr, 4096);
			http_error_default(&r, st >= 400 ? st : 500);
		}
		http_send(&r);
		la = (struct log_access){
			.request_id = r.request_id, .method = r.method_name, .path = log_path(&r),
			.route = r.route ? r.route->pattern : "-", .status = r.status,
			.duration_ms = core_mono_ms() - r.t0,
			.tenant = r.tenant.present ? r.tenant.id : NULL,
			.principal = principal_kind(&r), .client = r.client, .cache = r.cache_use,
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
		flush_due(w);
		/* A usage read missed the meter catalog: read it now, for the next ones. */
		if (w->meter_catalog_due)
			api_usage_catalog_load(w);
	}
	FCGX_Free(&fr, 1);
	/* What this worker counted and did not flush yet is not lost on a clean exit. */
	if (rate_flush(w->rate, w->db, w->a, (long long)time(NULL), NULL) != DB_OK)
		log_warn(NULL, "exit: unflushed rate counts are lost");
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
	    (w.db = db_new(w.cfg.database_url, w.cfg.db_connect_timeout,
	        w.cfg.db_deadline_ms, "tenantry.fcgi")) == NULL ||
	    (w.cache = cache_new((size_t)w.cfg.cache_entries, (size_t)w.cfg.cache_mb << 20,
	        w.cfg.cache_ttl_ms, w.cfg.cache_max_age_ms)) == NULL ||
	    (w.listen = db_listen_new(w.cfg.listen_url)) == NULL ||
	    (w.rate = rate_table_new((int)(getpid() % 64), w.cfg.rate_flush_ms)) == NULL) {
		log_error(NULL, "refusing to start: initialisation failed");
		return 1;
	}
	buf_init(&w.hdr);
	buf_init(&w.out);
	/* See idle_wait(). Linux does not pass O_NONBLOCK on to accepted sockets. */
	if (!FCGX_IsCGI())
		fcntl(FCGI_LISTENSOCK_FILENO, F_SETFL,
		    fcntl(FCGI_LISTENSOCK_FILENO, F_GETFL) | O_NONBLOCK);

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
	db_listen_free(w.listen);
	cache_free(w.cache);
	rate_table_free(w.rate);
	web_free(&w);
	arena_free(w.a);
	buf_release(&w.hdr);
	buf_release(&w.out);
	return rc;
}
