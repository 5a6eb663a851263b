/* session.c: dashboard sessions: the cookie, its server-side hash, CSRF tokens and the Origin check. */
#include "auth/session.h"
#include "core/log.h"
#include "core/util.h"
#include "http/response.h"
#include "http/worker.h"

#include <string.h>
#include <strings.h>

const char *
auth_cookie(const struct req *r, const char *name)
{
	struct kv *v;
	size_t n;

	if (r->cookie_header == NULL ||
	    http_cookie_parse(r->a, r->cookie_header, &v, &n) != PARSE_OK)
		return NULL;
	return http_kv_get(v, n, name);
}

/* SESSION_ID_LEN base62 characters, nothing else. */
static bool
id_shaped(const char *s)
{
	size_t i;

	if (s == NULL)
		return false;
	for (i = 0; s[i] != '\0'; i++)
		if (i >= SESSION_ID_LEN || !((s[i] >= '0' && s[i] <= '9') ||
		    (s[i] >= 'a' && s[i] <= 'z') || (s[i] >= 'A' && s[i] <= 'Z')))
			return false;
	return i == SESSION_ID_LEN;
}

bool
auth_session_cookie(const struct req *r, char hash[65])
{
	const char *v = auth_cookie(r, SESSION_COOKIE);

	return id_shaped(v) && core_sha256_hex(v, hash);
}

bool
auth_session_new(char id[SESSION_ID_LEN + 1], char hash[65], char csrf[SESSION_ID_LEN + 1])
{
	return core_random_base62(id, SESSION_ID_LEN) && core_sha256_hex(id, hash) &&
	    core_random_base62(csrf, SESSION_ID_LEN);
}

void
auth_session_set_cookie(struct req *r, const char *id)
{
	http_header(r, "Set-Cookie", arena_printf(r->a,
	    SESSION_COOKIE "=%s; Path=/; Max-Age=%d; Secure; HttpOnly; SameSite=Lax", id, SESSION_TTL));
}

void
auth_session_clear_cookie(struct req *r)
{
	http_header(r, "Set-Cookie", SESSION_COOKIE "=; Path=/; Max-Age=0; Secure; HttpOnly; SameSite=Lax");
}

void
auth_fresh_set_cookie(struct req *r)
{
	http_header(r, "Set-Cookie", arena_printf(r->a,
	    FRESH_COOKIE "=1; Path=/; Max-Age=%d; Secure; HttpOnly; SameSite=Lax", FRESH_SECONDS));
}

bool
auth_fresh_cookie(const struct req *r)
{
	return auth_cookie(r, FRESH_COOKIE) != NULL;
}

/* hex HMAC-SHA256(server secret, "tenantry-csrf:" + pre-session id), into the arena. */
static const char *
pre_token(struct req *r, const char *pre)
{
	static const char tag[] = "tenantry-csrf:";
	unsigned char mac[32];
	char *hex = arena_alloc(r->a, 65);

	if (hex == NULL || !core_hmac_sha256(r->w->cfg.jwt_secret, r->w->cfg.jwt_secret_len,
	    tag, sizeof(tag) - 1, pre, strlen(pre), mac))
		return NULL;
	core_hex(mac, sizeof(mac), hex);
	return hex;
}

const char *
auth_csrf_token(struct req *r)
{
	const char *pre;
	char *fresh;

	if (r->who.cred == CRED_SESSION)
		return r->who.csrf;
	pre = auth_cookie(r, PRESESSION_COOKIE);
	if (!id_shaped(pre)) {
		/* Lives as long as a sign-in form may stay open; never identifies anyone. */
		if ((fresh = arena_alloc(r->a, SESSION_ID_LEN + 1)) == NULL ||
		    !core_random_base62(fresh, SESSION_ID_LEN))
			return NULL;
		http_header(r, "Set-Cookie", arena_printf(r->a,
		    PRESESSION_COOKIE "=%s; Path=/; Max-Age=86400; Secure; HttpOnly; SameSite=Lax", fresh));
		pre = fresh;
	}
	return pre_token(r, pre);
}

/* Length of the scheme://host[:port] part of an absolute URL, or 0. */
static size_t
origin_len(const char *url)
{
	const char *p = strstr(url, "://");

	if (p == NULL)
		return 0;
	p += 3;
	return (size_t)(p - url) + strcspn(p, "/?#");
}

bool
auth_origin_ok(const struct req *r, const char *origin)
{
	size_t n = strlen(origin), pn = origin_len(r->w->cfg.public_url);

	if (pn > 0 && n == pn && strncasecmp(origin, r->w->cfg.public_url, n) == 0)
		return true;
	/* The site the browser sent this request to (nginx terminates TLS). */
	return r->host != NULL && *r->host != '\0' && strncasecmp(origin, "https://", 8) == 0 &&
	    strcasecmp(origin + 8, r->host) == 0;
}

int
auth_csrf_verify(struct req *r)
{
	const char *want, *got = http_kv_get(r->form, r->nform, "csrf_token");

	if (r->origin != NULL && !auth_origin_ok(r, r->origin)) {
		log_info(r->request_id, "form refused: Origin names another site");
		return http_error(r, 403, "permission_denied", "this form was sent from another site");
	}
	/* Only the presence of the pre-session cookie is read here; never a new one. */
	if (r->who.cred != CRED_SESSION && !id_shaped(auth_cookie(r, PRESESSION_COOKIE)))
		want = NULL;
	else
		want = auth_csrf_token(r);
	if (want == NULL || got == NULL || strlen(got) != strlen(want) ||
	    !core_ct_equal(got, want, strlen(want))) {
		log_info(r->request_id, "form refused: missing or wrong CSRF token");
		return http_error(r, 403, "permission_denied",
		    "this form has expired or was not sent from this site; reload the page and try again");
	}
	return 0;
}

/* ---- A session in the worker's cache ------------------------------------------ */

void
auth_session_facts_at(struct auth_session_facts *f, double now_ms, double db_now,
    double expires_at, double last_seen_at, int idle_minutes, double created_at,
    double password_changed_at)
{
	f->expires = now_ms + (expires_at - db_now) * 1000.0;
	f->idle = now_ms + (last_seen_at + idle_minutes * 60.0 - db_now) * 1000.0;
	f->touch = now_ms + (last_seen_at + SESSION_TOUCH_FRESH - db_now) * 1000.0;
	f->pw_ok = created_at >= password_changed_at;
}

bool
auth_session_fresh(const struct auth_session_facts *f, double now_ms)
{
	return f->pw_ok && now_ms < f->expires && now_ms < f->idle && now_ms < f->touch;
}

/*
 * The blob: the facts, then user id, CSRF token and nav as NUL-terminated
 * strings (an absent one is empty), then the context blob to the end.
 */
void *
auth_session_pack(struct arena *a, const struct auth_session_entry *e, size_t *len)
{
	const char *s[3] = { e->user_id, e->csrf, e->nav };
	size_t n = sizeof(e->facts) + e->ctx_len, k;
	unsigned char *blob, *p;

	for (int i = 0; i < 3; i++)
		n += (s[i] != NULL ? strlen(s[i]) : 0) + 1;
	if ((blob = arena_alloc(a, n)) == NULL)
		return NULL;
	memcpy(blob, &e->facts, sizeof(e->facts));
	p = blob + sizeof(e->facts);
	for (int i = 0; i < 3; i++) {
		k = s[i] != NULL ? strlen(s[i]) : 0;
		memcpy(p, s[i] != NULL ? s[i] : "", k + 1);
		p += k + 1;
	}
	if (e->ctx_len > 0)
		memcpy(p, e->ctx, e->ctx_len);
	*len = n;
	return blob;
}

bool
auth_session_unpack(struct arena *a, const void *blob, size_t len, struct auth_session_entry *e)
{
	const char **s[3] = { &e->user_id, &e->csrf, &e->nav };
	unsigned char *p, *end, *z;

	if (len < sizeof(e->facts) || (p = arena_alloc(a, len)) == NULL)
		return false;
	memcpy(p, blob, len);
	end = p + len;
	memcpy(&e->facts, p, sizeof(e->facts));
	p += sizeof(e->facts);
	for (int i = 0; i < 3; i++) {
		if (p >= end || (z = memchr(p, '\0', (size_t)(end - p))) == NULL)
			return false;
		*s[i] = (const char *)p;
		p = z + 1;
	}
	e->ctx = p;
	e->ctx_len = (size_t)(end - p);
	return true;
}
