/* session.h: dashboard sessions: the cookie, its server-side hash, CSRF tokens and the Origin check. */
#ifndef TENANTRY_SESSION_H
#define TENANTRY_SESSION_H

#include <stdbool.h>

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

#endif
