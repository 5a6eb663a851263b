/* context.c: the facts one authorisation decision rests on, as read from PostgreSQL, and their cached form. */
#include "auth/context.h"

#include <stdio.h>
#include <string.h>

size_t
auth_ctx_key(char out[AUTH_CTX_KEY_MAX], const struct principal *who, const char *tid,
    const char *slug)
{
	int n;

	if (who->cred == CRED_API_KEY)
		n = snprintf(out, AUTH_CTX_KEY_MAX, "K%s", who->key_hash);
	else if (tid != NULL)
		n = snprintf(out, AUTH_CTX_KEY_MAX, "U%s\037i%s", who->user_id, tid);
	else if (slug != NULL)
		n = snprintf(out, AUTH_CTX_KEY_MAX, "U%s\037s%s", who->user_id, slug);
	else
		n = snprintf(out, AUTH_CTX_KEY_MAX, "U%s\037-", who->user_id);
	return n > 0 && n < AUTH_CTX_KEY_MAX ? (size_t)n : 0;
}

/*
 * The blob: the struct itself (its string pointers meaningless), then each
 * string as a presence byte and, if present, its bytes and a NUL.
 */
#define NSTR 9

static const char **
strs(struct auth_ctx *c, int i)
{
	const char **s[NSTR] = { &c->email, &c->name, &c->slug, &c->tenant_name, &c->tier, &c->status,
	    &c->key_id, &c->key_name, &c->ip_allow };

	return s[i];
}

void *
auth_ctx_pack(struct arena *a, const struct auth_ctx *c, size_t *len)
{
	struct auth_ctx copy = *c;
	size_t n = sizeof(copy);
	unsigned char *blob, *p;

	for (int i = 0; i < NSTR; i++)
		n += 1 + (*strs(&copy, i) != NULL ? strlen(*strs(&copy, i)) + 1 : 0);
	if ((blob = arena_alloc(a, n)) == NULL)
		return NULL;
	p = blob + sizeof(copy);
	for (int i = 0; i < NSTR; i++) {
		const char *s = *strs(&copy, i);

		*p++ = s != NULL;
		if (s != NULL) {
			memcpy(p, s, strlen(s) + 1);
			p += strlen(s) + 1;
		}
		*strs(&copy, i) = NULL;
	}
	memcpy(blob, &copy, sizeof(copy));
	*len = n;
	return blob;
}

bool
auth_ctx_unpack(struct arena *a, const void *blob, size_t len, struct auth_ctx *out)
{
	unsigned char *p, *end;

	if (len < sizeof(*out) || (p = arena_alloc(a, len)) == NULL)
		return false;
	memcpy(p, blob, len);
	memcpy(out, p, sizeof(*out));
	end = p + len;
	p += sizeof(*out);
	for (int i = 0; i < NSTR; i++) {
		if (p >= end)
			return false;
		if (*p++ == 0) {
			*strs(out, i) = NULL;
			continue;
		}
		*strs(out, i) = (const char *)p;
		p = memchr(p, '\0', (size_t)(end - p));
		if (p == NULL)
			return false;
		p++;
	}
	return p == end;
}
