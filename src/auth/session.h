/* session.h: dashboard sessions: the cookie, its server-side hash, CSRF tokens and the Origin check. */
#ifndef TENANTRY_SESSION_H
#define TENANTRY_SESSION_H

#include <stdbool.h>
#include <stddef.h>

#include "core/arena.h"
#include "http/request.h"

/*
 * The session cookie holds SESSION_ID_LEN base62 characters (190 bits from
 * OpenSSL's RNG); the database keeps only their SHA-256. __Host- means the
 * browser accepts it only with Secure, Path=/ and no Domain, so no
 * subdomain can plant or read it.
 */
#define SESSION_COOKIE   "__Host-tenantry"
#define PRESESSION_COOKIE "__Host-tenantry-pre"
#define FLASH_COOKIE     "__Host-tenantry-flash"
/*
 * Read-your-writes on the dashboard: a successful form post sets this for
 * a little longer than SPEC §2's propagation bound, and a request that
 * carries it is answered from the database, not from any worker's cache.
 */
#define FRESH_COOKIE     "__Host-tenantry-fresh"
#define FRESH_SECONDS    3
#define SESSION_ID_LEN   32
#define SESSION_TTL      (12 * 3600)   /* absolute timeout, seconds */

/* A cookie's value from r's Cookie header, or NULL (the arena owns it). */
const char *auth_cookie(const struct req *r, const char *name);

/*
 * The SHA-256 (hex) of r's session cookie into hash. False when there is
 * none or it is not shaped like one (then no database lookup is made).
 */
bool auth_session_cookie(const struct req *r, char hash[65]);

/*
 * A fresh session: id (the cookie value), its hash (hex) and a CSRF token,
 * all from the RNG. False if the RNG failed.
 */
bool auth_session_new(char id[SESSION_ID_LEN + 1], char hash[65], char csrf[SESSION_ID_LEN + 1]);

/* Set-Cookie for a new session id, or one that removes the cookie. */
void auth_session_set_cookie(struct req *r, const char *id);
void auth_session_clear_cookie(struct req *r);

/* After a dashboard write: the fresh cookie (FRESH_SECONDS). Does r carry it? */
void auth_fresh_set_cookie(struct req *r);
bool auth_fresh_cookie(const struct req *r);

/*
 * The CSRF token a form on r's page must carry: the session's for a
 * signed-in user, else (sign-in and invitation forms) one bound to a
 * random pre-session cookie, set here when absent: HMAC(secret, cookie).
 * NULL on OOM or RNG failure. The arena owns the string.
 */
const char *auth_csrf_token(struct req *r);

/*
 * For a dashboard POST, after auth_authorize(): an Origin header, when
 * present, must name this site (TENANTRY_PUBLIC_URL's origin or the Host
 * the request was sent to), and the form's csrf_token must match
 * auth_csrf_token()'s. 0, or 403 written.
 */
int auth_csrf_verify(struct req *r);

/* Does origin (scheme://host[:port]) name the site r was sent to? */
bool auth_origin_ok(const struct req *r, const char *origin);

/* ---- A session in the worker's cache (SPEC §2) ------------------------------ */

/*
 * A page read may skip the session's keep-alive write only while the
 * database's last_seen_at is younger than this: the write (ST_SESSION_TOUCH,
 * at most once every 30 s) keeps an idle limit of minutes honest.
 */
#define SESSION_TOUCH_FRESH 60   /* seconds */

/*
 * What the session lookup and its keep-alive establish, as deadlines on
 * this worker's monotonic clock (ms), so a cached session dies on time
 * without the database, and the clocks of the database's host and ours
 * never need to agree: each is the database's distance from its own now()
 * added to ours at the read.
 *   expires   the absolute lifetime (12 h from sign-in) ends
 *   idle      last_seen_at + the idle limit as it is now (the strictest of
 *             the user's workspaces, refreshed by the keep-alive)
 *   touch     SESSION_TOUCH_FRESH after last_seen_at: from then on a
 *             request takes the database path, which writes the keep-alive
 *   pw_ok     the session was made after the user's last password change
 */
struct auth_session_facts {
	double expires, idle, touch;
	bool   pw_ok;
};

/*
 * The facts from the database's epoch seconds (db_now: its now() in the same
 * transaction), read at our monotonic now_ms.
 */
void auth_session_facts_at(struct auth_session_facts *f, double now_ms, double db_now,
    double expires_at, double last_seen_at, int idle_minutes, double created_at,
    double password_changed_at);

/*
 * May a cached session be used at monotonic now_ms? Every deadline is
 * strict (the database's lookup is "> now()"). False means "ask the
 * database", never "refuse": the database path decides and touches.
 */
bool auth_session_fresh(const struct auth_session_facts *f, double now_ms);

/*
 * A cached session for one workspace: its facts, the user id, the CSRF
 * token, the header's workspace list (JSON text) and the authorisation
 * context blob (auth_ctx_pack) as one blob in the arena, and back (the
 * strings and ctx point into an arena copy). False on OOM or a malformed
 * blob.
 */
struct auth_session_entry {
	struct auth_session_facts facts;
	const char *user_id, *csrf, *nav;
	const void *ctx;
	size_t      ctx_len;
};
void *auth_session_pack(struct arena *a, const struct auth_session_entry *e, size_t *len);
bool  auth_session_unpack(struct arena *a, const void *blob, size_t len, struct auth_session_entry *e);

#endif
