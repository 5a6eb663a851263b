/* test_jwt.c: unit tests for src/auth/jwt: issue, and verification against hand-made and tampered tokens. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>
#include <jwt.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "auth/jwt.h"

/*
 * Tokens are built by hand here (OpenSSL HMAC, our own base64url), so a
 * claim can have any JSON type and the header any alg; libjwt builds the
 * HS384/HS512 ones, as an attacker with a library would. The clock is
 * fixed: every check is relative to NOW.
 */

#define NOW     1700000000LL
#define TTL     900
#define ISSUER  "tenantry"
#define USER    "0b5e9a1c-3f4d-4e8a-9c2b-7d6e5f4a3b21"
#define USER_UC "0B5E9A1C-3F4D-4E8A-9C2B-7D6E5F4A3B21"
#define TENANT  "9f8e7d6c-5b4a-4392-8170-6f5e4d3c2b1a"
#define TENANT_UC "9F8E7D6C-5B4A-4392-8170-6F5E4D3C2B1A"

/* 48 bytes, as a secret file would hold. */
static const unsigned char KEY[48] = "k3y-for-unit-tests-0123456789abcdefghijklmnopqrs";
static const unsigned char OTHER_KEY[48] = "another-secret-0123456789abcdefghijklmnopqrstuvw";
/* The key with the trailing newline config_read_secret strips. */
static const unsigned char KEY_NL[49] = "k3y-for-unit-tests-0123456789abcdefghijklmnopqrs\n";

static const struct jwt_key key = { KEY, sizeof(KEY), ISSUER };

/* ========================================================================
 * Token construction
 * ===================================================================== */

static char *
b64url(const unsigned char *p, size_t n)
{
	static const char alpha[] =
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
	char *out = malloc(n * 4 / 3 + 4), *o = out;
	size_t i;

	assert_non_null(out);
	for (i = 0; i + 2 < n; i += 3) {
		unsigned v = (unsigned)p[i] << 16 | (unsigned)p[i + 1] << 8 | p[i + 2];

		*o++ = alpha[v >> 18 & 63];
		*o++ = alpha[v >> 12 & 63];
		*o++ = alpha[v >> 6 & 63];
		*o++ = alpha[v & 63];
	}
	if (n - i == 1) {
		unsigned v = (unsigned)p[i] << 16;

		*o++ = alpha[v >> 18 & 63];
		*o++ = alpha[v >> 12 & 63];
	} else if (n - i == 2) {
		unsigned v = (unsigned)p[i] << 16 | (unsigned)p[i + 1] << 8;

		*o++ = alpha[v >> 18 & 63];
		*o++ = alpha[v >> 12 & 63];
		*o++ = alpha[v >> 6 & 63];
	}
	*o = '\0';
	return out;
}

static int
b64val(char c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == '-')
		return 62;
	if (c == '_')
		return 63;
	return -1;
}

/* Decode n base64url characters into a malloc'd NUL-terminated string. */
static char *
unb64url(const char *s, size_t n)
{
	char *out = malloc(n * 3 / 4 + 2);
	size_t len = 0;
	unsigned acc = 0;
	int bits = 0;

	assert_non_null(out);
	for (size_t i = 0; i < n; i++) {
		int v = b64val(s[i]);

		assert_true(v >= 0);
		acc = acc << 6 | (unsigned)v;
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			out[len++] = (char)(acc >> bits & 0xFF);
		}
	}
	out[len] = '\0';
	return out;
}

/*
 * header.payload.signature with the signature an HMAC of md over the first
 * two parts with k; md NULL leaves the signature empty. Caller frees.
 */
static char *
make_token(const char *header, const char *payload, const EVP_MD *md,
    const unsigned char *k, size_t klen)
{
	char *h = b64url((const unsigned char *)header, strlen(header));
	char *p = b64url((const unsigned char *)payload, strlen(payload));
	size_t cap = strlen(h) + strlen(p) + 200;
	char *t = malloc(cap), *sig;
	unsigned char mac[EVP_MAX_MD_SIZE];
	unsigned maclen = 0;

	assert_non_null(t);
	snprintf(t, cap, "%s.%s", h, p);
	if (md != NULL)
		assert_non_null(HMAC(md, k, (int)klen, (const unsigned char *)t, strlen(t), mac,
		    &maclen));
	sig = b64url(mac, maclen);
	strcat(t, ".");
	strcat(t, sig);
	free(h);
	free(p);
	free(sig);
	return t;
}

#define HS256_HEADER "{\"alg\":\"HS256\",\"typ\":\"JWT\"}"

static char *
make_hs256(const char *payload)
{
	return make_token(HS256_HEADER, payload, EVP_sha256(), KEY, sizeof(KEY));
}

/* The three dot-separated parts of t, decoded; each malloc'd. */
static void
split(const char *t, char **header, char **payload, const char **sig)
{
	const char *d1 = strchr(t, '.'), *d2 = d1 ? strchr(d1 + 1, '.') : NULL;

	assert_non_null(d1);
	assert_non_null(d2);
	*header = unb64url(t, (size_t)(d1 - t));
	*payload = unb64url(d1 + 1, (size_t)(d2 - d1 - 1));
	*sig = d2 + 1;
}

static const char *
res_name(enum jwt_result r)
{
	return auth_jwt_result_name(r);
}

/* ========================================================================
 * Claims: one table, every row a hand-made HS256 token
 * ===================================================================== */

/* A claim: raw JSON, or (raw NULL) the integer NOW + rel. */
struct claim {
	const char *name;
	const char *raw;
	long long   rel;
};

#define CLAIMS_MAX 8

struct claim_case {
	const char     *what;
	struct claim    c[CLAIMS_MAX];   /* ends at the first NULL name */
	enum jwt_result want;
	enum jwt_kind   kind;            /* JWT_OK rows */
	const char     *sub;
	const char     *tenant_id;
};

#define ISS         { "iss", "\"" ISSUER "\"", 0 }
#define AUD_ID      { "aud", "\"" JWT_AUD_IDENTITY "\"", 0 }
#define AUD_TN      { "aud", "\"" JWT_AUD_TENANT "\"", 0 }
#define SUB         { "sub", "\"" USER "\"", 0 }
#define TID         { "tenant_id", "\"" TENANT "\"", 0 }
#define IAT(d)      { "iat", NULL, (d) }
#define EXP(d)      { "exp", NULL, (d) }
#define NBF(d)      { "nbf", NULL, (d) }
#define RAW(n, v)   { n, v, 0 }
#define TIMES       IAT(0), EXP(TTL)

#define OK_ID       JWT_OK, JWT_IDENTITY, USER, ""
#define OK_TN       JWT_OK, JWT_TENANT, USER, TENANT
#define REFUSED(r)  r, JWT_IDENTITY, NULL, NULL

static const struct claim_case claim_cases[] = {
	{ "identity",             { ISS, AUD_ID, SUB, TIMES },        OK_ID },
	{ "tenant",               { ISS, AUD_TN, SUB, TID, TIMES },   OK_TN },
	{ "claims in any order",  { EXP(TTL), SUB, AUD_TN, IAT(0), TID, ISS }, OK_TN },
	{ "sub upper-case",       { ISS, AUD_ID, RAW("sub", "\"" USER_UC "\""), TIMES }, OK_ID },
	{ "tenant_id upper-case", { ISS, AUD_TN, SUB, RAW("tenant_id", "\"" TENANT_UC "\""), TIMES },
	                                                              OK_TN },
	/* A tenant_id claim inside an identity token is ignored, valid or not. */
	{ "identity + tenant_id", { ISS, AUD_ID, SUB, TID, TIMES },   OK_ID },
	{ "identity + bad tenant_id", { ISS, AUD_ID, SUB, RAW("tenant_id", "\"nope\""), TIMES },
	                                                              OK_ID },

	/* exp with 30 s of skew: 29 s late is fine, 31 s is not. */
	{ "exp now-29",           { ISS, AUD_ID, SUB, IAT(-TTL), EXP(-29) }, OK_ID },
	{ "exp now-31",           { ISS, AUD_ID, SUB, IAT(-TTL), EXP(-31) }, REFUSED(JWT_EXPIRED) },
	{ "exp long ago",         { ISS, AUD_ID, SUB, IAT(-10 * TTL), EXP(-9 * TTL) },
	                                                              REFUSED(JWT_EXPIRED) },
	{ "tenant exp now-31",    { ISS, AUD_TN, SUB, TID, IAT(-TTL), EXP(-31) },
	                                                              REFUSED(JWT_EXPIRED) },
	/* iat and nbf: up to 30 s in the future is clock skew, more is refused. */
	{ "iat now+29",           { ISS, AUD_ID, SUB, IAT(29), EXP(TTL) }, OK_ID },
	{ "iat now+31",           { ISS, AUD_ID, SUB, IAT(31), EXP(TTL) }, REFUSED(JWT_NOT_YET_VALID) },
	{ "nbf now+29",           { ISS, AUD_ID, SUB, TIMES, NBF(29) }, OK_ID },
	{ "nbf now+31",           { ISS, AUD_ID, SUB, TIMES, NBF(31) }, REFUSED(JWT_NOT_YET_VALID) },
	{ "nbf an hour ahead",    { ISS, AUD_ID, SUB, TIMES, NBF(3600) }, REFUSED(JWT_NOT_YET_VALID) },
	{ "nbf past",             { ISS, AUD_ID, SUB, TIMES, NBF(-60) }, OK_ID },
	{ "nbf string",           { ISS, AUD_ID, SUB, TIMES, RAW("nbf", "\"0\"") },
	                                                              REFUSED(JWT_BAD_CLAIMS) },

	/* Issuer and audience. */
	{ "iss other",            { RAW("iss", "\"evil\""), AUD_ID, SUB, TIMES }, REFUSED(JWT_BAD_ISSUER) },
	{ "iss prefix",           { RAW("iss", "\"tenantr\""), AUD_ID, SUB, TIMES }, REFUSED(JWT_BAD_ISSUER) },
	{ "iss longer",           { RAW("iss", "\"tenantry2\""), AUD_ID, SUB, TIMES }, REFUSED(JWT_BAD_ISSUER) },
	{ "iss missing",          { AUD_ID, SUB, TIMES },             REFUSED(JWT_BAD_ISSUER) },
	{ "iss number",           { RAW("iss", "1"), AUD_ID, SUB, TIMES }, REFUSED(JWT_BAD_ISSUER) },
	{ "aud other",            { ISS, RAW("aud", "\"tenantry:admin\""), SUB, TIMES },
	                                                              REFUSED(JWT_BAD_AUDIENCE) },
	{ "aud missing",          { ISS, SUB, TIMES },                REFUSED(JWT_BAD_AUDIENCE) },
	{ "aud case",             { ISS, RAW("aud", "\"Tenantry:Identity\""), SUB, TIMES },
	                                                              REFUSED(JWT_BAD_AUDIENCE) },
	{ "aud number",           { ISS, RAW("aud", "7"), SUB, TIMES }, REFUSED(JWT_BAD_AUDIENCE) },

	/* Tenant tokens need a tenant_id that is a UUID string. */
	{ "tenant, no tenant_id", { ISS, AUD_TN, SUB, TIMES },        REFUSED(JWT_BAD_CLAIMS) },
	{ "tenant_id not a UUID", { ISS, AUD_TN, SUB, RAW("tenant_id", "\"nope\""), TIMES },
	                                                              REFUSED(JWT_BAD_CLAIMS) },
	{ "tenant_id number",     { ISS, AUD_TN, SUB, RAW("tenant_id", "42"), TIMES },
	                                                              REFUSED(JWT_BAD_CLAIMS) },
	{ "tenant_id null",       { ISS, AUD_TN, SUB, RAW("tenant_id", "null"), TIMES },
	                                                              REFUSED(JWT_BAD_CLAIMS) },

	/* exp and iat are JSON integers, nothing else. */
	{ "exp string",           { ISS, AUD_ID, SUB, IAT(0), RAW("exp", "\"123\"") },
	                                                              REFUSED(JWT_BAD_CLAIMS) },
	{ "exp string far",       { ISS, AUD_ID, SUB, IAT(0), RAW("exp", "\"9999999999\"") },
	                                                              REFUSED(JWT_BAD_CLAIMS) },
	{ "exp float",            { ISS, AUD_ID, SUB, IAT(0), RAW("exp", "1.5e9") },
	                                                              REFUSED(JWT_BAD_CLAIMS) },
	{ "exp float future",     { ISS, AUD_ID, SUB, IAT(0), RAW("exp", "1700000900.0") },
	                                                              REFUSED(JWT_BAD_CLAIMS) },
	{ "exp bool",             { ISS, AUD_ID, SUB, IAT(0), RAW("exp", "true") },
	                                                              REFUSED(JWT_BAD_CLAIMS) },
	{ "exp null",             { ISS, AUD_ID, SUB, IAT(0), RAW("exp", "null") },
	                                                              REFUSED(JWT_BAD_CLAIMS) },
	{ "exp missing",          { ISS, AUD_ID, SUB, IAT(0) },        REFUSED(JWT_BAD_CLAIMS) },
	{ "iat missing",          { ISS, AUD_ID, SUB, EXP(TTL) },      REFUSED(JWT_BAD_CLAIMS) },
	{ "iat string",           { ISS, AUD_ID, SUB, RAW("iat", "\"1700000000\""), EXP(TTL) },
	                                                              REFUSED(JWT_BAD_CLAIMS) },
	{ "iat float",            { ISS, AUD_ID, SUB, RAW("iat", "1700000000.5"), EXP(TTL) },
	                                                              REFUSED(JWT_BAD_CLAIMS) },

	/* sub is a user id. */
	{ "sub not a UUID",       { ISS, AUD_ID, RAW("sub", "\"alice\""), TIMES }, REFUSED(JWT_BAD_CLAIMS) },
	{ "sub UUID + junk",      { ISS, AUD_ID, RAW("sub", "\"" USER "x\""), TIMES },
	                                                              REFUSED(JWT_BAD_CLAIMS) },
	{ "sub number",           { ISS, AUD_ID, RAW("sub", "42"), TIMES }, REFUSED(JWT_BAD_CLAIMS) },
	{ "sub missing",          { ISS, AUD_ID, TIMES },             REFUSED(JWT_BAD_CLAIMS) },
	{ "tenant, sub bad",      { ISS, AUD_TN, RAW("sub", "\"\""), TID, TIMES },
	                                                              REFUSED(JWT_BAD_CLAIMS) },
};

static char *
claims_json(const struct claim *c)
{
	char *s = malloc(2048);
	size_t len = 0;

	assert_non_null(s);
	len += (size_t)snprintf(s + len, 2048 - len, "{");
	for (int i = 0; i < CLAIMS_MAX && c[i].name != NULL; i++) {
		if (c[i].raw != NULL)
			len += (size_t)snprintf(s + len, 2048 - len, "%s\"%s\":%s", i ? "," : "",
			    c[i].name, c[i].raw);
		else
			len += (size_t)snprintf(s + len, 2048 - len, "%s\"%s\":%lld", i ? "," : "",
			    c[i].name, NOW + c[i].rel);
	}
	snprintf(s + len, 2048 - len, "}");
	return s;
}

static void
claim_table(void **state)
{
	int fails = 0;

	(void)state;
	for (size_t i = 0; i < sizeof(claim_cases) / sizeof(claim_cases[0]); i++) {
		const struct claim_case *cc = &claim_cases[i];
		char *payload = claims_json(cc->c), *t = make_hs256(payload);
		struct jwt_claims out;
		enum jwt_result got;
		bool ok;

		memset(&out, 0x55, sizeof(out));
		got = auth_jwt_verify(&key, t, (time_t)NOW, &out);
		ok = got == cc->want;
		if (ok && got == JWT_OK)
			ok = out.kind == cc->kind && strcmp(out.sub, cc->sub) == 0 &&
			    strcmp(out.tenant_id, cc->tenant_id) == 0;
		if (!ok) {
			print_error("claims row %zu (%s) %s: want %s, got %s", i, cc->what, payload,
			    res_name(cc->want), res_name(got));
			if (got == JWT_OK)
				print_error(" kind=%d sub=%.36s tenant=%.36s", out.kind, out.sub,
				    out.tenant_id);
			print_error("\n");
			fails++;
		}
		free(payload);
		free(t);
	}
	assert_int_equal(fails, 0);
}

/* ========================================================================
 * Header, signature and shape: hand-made tokens
 * ===================================================================== */

#define GOOD_PAYLOAD "{\"iss\":\"tenantry\",\"aud\":\"tenantry:identity\",\"sub\":\"" USER \
	"\",\"iat\":1700000000,\"exp\":1700000900}"

struct shape_case {
	const char          *what;
	const char          *header;
	const char          *payload;
	const char          *md;     /* OpenSSL digest name, NULL: empty signature */
	const unsigned char *k;
	size_t               klen;
	enum jwt_result      want;
};

static const struct shape_case shape_cases[] = {
	{ "HS256",                HS256_HEADER, GOOD_PAYLOAD, "SHA256", KEY, sizeof(KEY), JWT_OK },
	{ "HS256 no typ",         "{\"alg\":\"HS256\"}", GOOD_PAYLOAD, "SHA256", KEY, sizeof(KEY),
	                                                                               JWT_OK },
	/* Anything but HS256 is JWT_BAD_ALG, "none" included (jwt.h). */
	{ "alg none, no sig",     "{\"alg\":\"none\"}", GOOD_PAYLOAD, NULL, KEY, 0,    JWT_BAD_ALG },
	{ "alg none, HS256 sig",  "{\"alg\":\"none\"}", GOOD_PAYLOAD, "SHA256", KEY, sizeof(KEY),
	                                                                               JWT_BAD_ALG },
	{ "alg HS384",            "{\"alg\":\"HS384\"}", GOOD_PAYLOAD, "SHA384", KEY, sizeof(KEY),
	                                                                               JWT_BAD_ALG },
	{ "alg HS512",            "{\"alg\":\"HS512\"}", GOOD_PAYLOAD, "SHA512", KEY, sizeof(KEY),
	                                                                               JWT_BAD_ALG },
	{ "alg RS256, HMAC sig",  "{\"alg\":\"RS256\"}", GOOD_PAYLOAD, "SHA256", KEY, sizeof(KEY),
	                                                                               JWT_BAD_ALG },
	{ "alg hs256",            "{\"alg\":\"hs256\"}", GOOD_PAYLOAD, "SHA256", KEY, sizeof(KEY),
	                                                                               JWT_BAD_ALG },
	{ "no alg",               "{\"typ\":\"JWT\"}", GOOD_PAYLOAD, "SHA256", KEY, sizeof(KEY),
	                                                                               JWT_BAD_ALG },
	/* Signed with another secret, or ours with a byte more or less. */
	{ "other secret",         HS256_HEADER, GOOD_PAYLOAD, "SHA256", OTHER_KEY, sizeof(OTHER_KEY),
	                                                                         JWT_BAD_SIGNATURE },
	{ "secret minus a byte",  HS256_HEADER, GOOD_PAYLOAD, "SHA256", KEY, sizeof(KEY) - 1,
	                                                                         JWT_BAD_SIGNATURE },
	{ "secret plus newline",  HS256_HEADER, GOOD_PAYLOAD, "SHA256", KEY_NL, sizeof(KEY_NL),
	                                                                         JWT_BAD_SIGNATURE },
	/* Signed correctly, but not JSON: JWT_MALFORMED (jwt.h). */
	{ "header not JSON",      "hello", GOOD_PAYLOAD, "SHA256", KEY, sizeof(KEY), JWT_MALFORMED },
	{ "payload not JSON",     HS256_HEADER, "hello", "SHA256", KEY, sizeof(KEY), JWT_MALFORMED },
	{ "payload an array",     HS256_HEADER, "[1,2]", "SHA256", KEY, sizeof(KEY), JWT_MALFORMED },
	/* A member named twice is refused, not taken last-wins (RFC 7515 §4; issue 16). */
	{ "alg twice, HS256 last", "{\"alg\":\"none\",\"alg\":\"HS256\"}", GOOD_PAYLOAD, "SHA256", KEY,
	                                                                  sizeof(KEY), JWT_MALFORMED },
	{ "alg twice, HS256 first", "{\"alg\":\"HS256\",\"alg\":\"none\"}", GOOD_PAYLOAD, "SHA256", KEY,
	                                                                  sizeof(KEY), JWT_MALFORMED },
	{ "sub twice",            HS256_HEADER, "{\"iss\":\"tenantry\",\"aud\":\"tenantry:identity\",\"sub\":\""
	    USER "\",\"sub\":\"" TENANT "\",\"iat\":1700000000,\"exp\":1700000900}", "SHA256", KEY,
	                                                                  sizeof(KEY), JWT_MALFORMED },
};

static void
shape_table(void **state)
{
	int fails = 0;

	(void)state;
	for (size_t i = 0; i < sizeof(shape_cases) / sizeof(shape_cases[0]); i++) {
		const struct shape_case *c = &shape_cases[i];
		const EVP_MD *md = c->md ? EVP_get_digestbyname(c->md) : NULL;
		char *t;
		struct jwt_claims out;
		enum jwt_result got;

		assert_true(c->md == NULL || md != NULL);
		t = make_token(c->header, c->payload, md, c->k, c->klen);
		got = auth_jwt_verify(&key, t, (time_t)NOW, &out);
		if (got != c->want) {
			print_error("shape row %zu (%s): want %s, got %s\n", i, c->what,
			    res_name(c->want), res_name(got));
			fails++;
		}
		free(t);
	}
	assert_int_equal(fails, 0);
}

/* HS384 and HS512 made by libjwt with our own key verify there, and we still refuse them. */
static void
libjwt_other_algs_refused(void **state)
{
	static const jwt_alg_t algs[] = { JWT_ALG_HS384, JWT_ALG_HS512 };

	(void)state;
	for (size_t i = 0; i < sizeof(algs) / sizeof(algs[0]); i++) {
		jwt_t *j = NULL;
		char *t;
		struct jwt_claims out;

		assert_int_equal(jwt_new(&j), 0);
		assert_int_equal(jwt_set_alg(j, algs[i], KEY, (int)sizeof(KEY)), 0);
		assert_int_equal(jwt_add_grant(j, "iss", ISSUER), 0);
		assert_int_equal(jwt_add_grant(j, "aud", JWT_AUD_TENANT), 0);
		assert_int_equal(jwt_add_grant(j, "sub", USER), 0);
		assert_int_equal(jwt_add_grant(j, "tenant_id", TENANT), 0);
		assert_int_equal(jwt_add_grant_int(j, "iat", (long)NOW), 0);
		assert_int_equal(jwt_add_grant_int(j, "exp", (long)NOW + TTL), 0);
		assert_non_null(t = jwt_encode_str(j));
		jwt_free(j);
		assert_int_equal(auth_jwt_verify(&key, t, (time_t)NOW, &out), JWT_BAD_ALG);
		free(t);
	}
}

static const struct {
	const char *what;
	const char *t;
} garbage_cases[] = {
	{ "NULL",              NULL },
	{ "empty",             "" },
	{ "word",              "abc" },
	{ "no dots",           "aaaaaaaaaaaaaaaaaaaaaaaa" },
	{ "one dot",           "aaaaaaaaaaaa.bbbbbbbbbbbb" },
	{ "four parts",        "aaaaaa.bbbbbb.cccccc.dddddd" },
	{ "empty middle",      "aaaaaaaaaaaa..cccccccccccc" },
	{ "empty first",       ".bbbbbbbbbbbb.cccccccccccc" },
	{ "empty last",        "aaaaaaaaaaaa.bbbbbbbbbbbb." },
	{ "only dots",         "................" },
	{ "padding",           "eyJhbGciOiJIUzI1NiJ9.eyJhIjoxfQ==.c2lnbmF0dXJl" },
	{ "plus and slash",    "eyJhbGciOiJIUzI1NiJ9.eyJh+joxfQ.c2ln/mF0dXJl" },
	{ "space",             "eyJhbGciOiJIUzI1NiJ9.eyJhIjoxfQ .c2lnbmF0dXJl" },
	{ "newline",           "eyJhbGciOiJIUzI1NiJ9.eyJhIjoxfQ.c2lnbmF0dXJl\n" },
	{ "Bearer prefix",     "Bearer eyJhbGciOiJIUzI1NiJ9.eyJhIjoxfQ.c2lnbmF0dXJl" },
	{ "non-ASCII",         "eyJhbGciOiJIUzI1NiJ9.eyJhIjoxfQ.c2lnbmF0dXJl\xC3\xA9" },
	/* The right shape, but base64url of nothing JSON: JWT_MALFORMED (jwt.h). */
	{ "shaped garbage",    "aaaaaaaaaaaaaaaa.bbbbbbbbbbbbbbbb.cccccccccccccccc" },
};

static void
garbage_table(void **state)
{
	int fails = 0;

	(void)state;
	for (size_t i = 0; i < sizeof(garbage_cases) / sizeof(garbage_cases[0]); i++) {
		struct jwt_claims out;
		enum jwt_result got = auth_jwt_verify(&key, garbage_cases[i].t, (time_t)NOW, &out);

		if (got != JWT_MALFORMED) {
			print_error("garbage row %zu (%s): want malformed, got %s\n", i,
			    garbage_cases[i].what, res_name(got));
			fails++;
		}
	}
	assert_int_equal(fails, 0);
}

/*
 * A valid token padded (with an extra claim) to exactly len characters, or
 * NULL when base64url cannot reach that length with this filler.
 */
static char *
token_of_length(size_t len)
{
	for (size_t fill = 0; fill < JWT_MAX_LEN; fill++) {
		char *payload = malloc(fill + 512), *t;

		assert_non_null(payload);
		snprintf(payload, fill + 512, "{\"iss\":\"tenantry\",\"aud\":\"tenantry:identity\","
		    "\"sub\":\"" USER "\",\"iat\":%lld,\"exp\":%lld,\"pad\":\"%0*d\"}",
		    NOW, NOW + TTL, (int)fill, 0);
		size_t got;

		t = make_hs256(payload);
		free(payload);
		if ((got = strlen(t)) == len)
			return t;
		free(t);
		if (got > len)
			break;
	}
	return NULL;
}

/* JWT_MAX_LEN characters is still a token; one more is not. */
static void
length_boundary(void **state)
{
	struct jwt_claims out;
	char *t;

	(void)state;
	assert_non_null(t = token_of_length(JWT_MAX_LEN));
	assert_int_equal(auth_jwt_verify(&key, t, (time_t)NOW, &out), JWT_OK);
	free(t);
	assert_non_null(t = token_of_length(JWT_MAX_LEN + 1));
	assert_int_equal(auth_jwt_verify(&key, t, (time_t)NOW, &out), JWT_MALFORMED);
	free(t);
}

/* ========================================================================
 * Issued tokens, and tampering with them
 * ===================================================================== */

static void
issue_identity(void **state)
{
	struct jwt_claims out;
	char *t = auth_jwt_issue(&key, JWT_IDENTITY, USER, NULL, (time_t)NOW, TTL);
	char *h, *p;
	const char *sig;
	struct json_object *hj, *pj, *x;

	(void)state;
	assert_non_null(t);
	assert_int_equal(auth_jwt_verify(&key, t, (time_t)NOW, &out), JWT_OK);
	assert_int_equal(out.kind, JWT_IDENTITY);
	assert_string_equal(out.sub, USER);
	assert_string_equal(out.tenant_id, "");
	assert_int_equal(out.iat, NOW);
	assert_int_equal(out.exp, NOW + TTL);

	/* What is inside: HS256, our issuer, the identity audience, integer times. */
	split(t, &h, &p, &sig);
	assert_non_null(hj = json_tokener_parse(h));
	assert_true(json_object_object_get_ex(hj, "alg", &x));
	assert_string_equal(json_object_get_string(x), "HS256");
	assert_non_null(pj = json_tokener_parse(p));
	assert_true(json_object_object_get_ex(pj, "iss", &x));
	assert_string_equal(json_object_get_string(x), ISSUER);
	assert_true(json_object_object_get_ex(pj, "aud", &x));
	assert_string_equal(json_object_get_string(x), JWT_AUD_IDENTITY);
	assert_true(json_object_object_get_ex(pj, "exp", &x));
	assert_true(json_object_is_type(x, json_type_int));
	assert_false(json_object_object_get_ex(pj, "tenant_id", NULL));
	json_object_put(hj);
	json_object_put(pj);
	free(h);
	free(p);
	free(t);
}

static void
issue_tenant(void **state)
{
	struct jwt_claims out;
	char *t = auth_jwt_issue(&key, JWT_TENANT, USER, TENANT, (time_t)NOW, TTL);

	(void)state;
	assert_non_null(t);
	assert_int_equal(auth_jwt_verify(&key, t, (time_t)NOW, &out), JWT_OK);
	assert_int_equal(out.kind, JWT_TENANT);
	assert_string_equal(out.sub, USER);
	assert_string_equal(out.tenant_id, TENANT);
	free(t);
	/* A tenant token needs a tenant. */
	assert_null(auth_jwt_issue(&key, JWT_TENANT, USER, NULL, (time_t)NOW, TTL));
}

/* The skew boundaries again, on tokens we issued ourselves. */
static void
issued_expiry_boundary(void **state)
{
	struct jwt_claims out;
	char *t;

	(void)state;
	t = auth_jwt_issue(&key, JWT_IDENTITY, USER, NULL, (time_t)(NOW - TTL - 29), TTL);
	assert_int_equal(auth_jwt_verify(&key, t, (time_t)NOW, &out), JWT_OK);
	free(t);
	t = auth_jwt_issue(&key, JWT_IDENTITY, USER, NULL, (time_t)(NOW - TTL - 31), TTL);
	assert_int_equal(auth_jwt_verify(&key, t, (time_t)NOW, &out), JWT_EXPIRED);
	free(t);
	t = auth_jwt_issue(&key, JWT_IDENTITY, USER, NULL, (time_t)(NOW + 29), TTL);
	assert_int_equal(auth_jwt_verify(&key, t, (time_t)NOW, &out), JWT_OK);
	free(t);
	t = auth_jwt_issue(&key, JWT_IDENTITY, USER, NULL, (time_t)(NOW + 31), TTL);
	assert_int_equal(auth_jwt_verify(&key, t, (time_t)NOW, &out), JWT_NOT_YET_VALID);
	free(t);
}

/* Another issuer's token, with our key, is refused. */
static void
issuer_pinned(void **state)
{
	const struct jwt_key other = { KEY, sizeof(KEY), "someone-else" };
	struct jwt_claims out;
	char *t = auth_jwt_issue(&other, JWT_IDENTITY, USER, NULL, (time_t)NOW, TTL);

	(void)state;
	assert_non_null(t);
	assert_int_equal(auth_jwt_verify(&key, t, (time_t)NOW, &out), JWT_BAD_ISSUER);
	free(t);
}

/* Re-encode a token with its payload edited by replacing from with to; the signature is kept. */
static char *
with_payload_edit(const char *t, const char *from, const char *to)
{
	char *h, *p, *np, *hp, *npp, *out;
	const char *sig, *at;
	size_t cap;

	split(t, &h, &p, &sig);
	assert_non_null(at = strstr(p, from));
	np = malloc(strlen(p) + strlen(to) + 1);
	assert_non_null(np);
	memcpy(np, p, (size_t)(at - p));
	strcpy(np + (at - p), to);
	strcat(np, at + strlen(from));
	hp = b64url((unsigned char *)h, strlen(h));
	npp = b64url((unsigned char *)np, strlen(np));
	cap = strlen(hp) + strlen(npp) + strlen(sig) + 3;
	out = malloc(cap);
	assert_non_null(out);
	snprintf(out, cap, "%s.%s.%s", hp, npp, sig);
	free(h);
	free(p);
	free(np);
	free(hp);
	free(npp);
	return out;
}

static void
tampered_payload(void **state)
{
	struct jwt_claims out;
	char *t = auth_jwt_issue(&key, JWT_IDENTITY, USER, NULL, (time_t)NOW, TTL), *x;

	(void)state;
	assert_non_null(t);
	/* Another user: one character of sub. */
	x = with_payload_edit(t, "3b21", "3b22");
	assert_int_equal(auth_jwt_verify(&key, x, (time_t)NOW, &out), JWT_BAD_SIGNATURE);
	free(x);
	/* A longer life: one digit of exp. */
	x = with_payload_edit(t, "1700000900", "1800000900");
	assert_int_equal(auth_jwt_verify(&key, x, (time_t)NOW, &out), JWT_BAD_SIGNATURE);
	free(x);
	/* Promote the identity token to a tenant token. */
	x = with_payload_edit(t, "\"" JWT_AUD_IDENTITY "\"",
	    "\"" JWT_AUD_TENANT "\",\"tenant_id\":\"" TENANT "\"");
	assert_int_equal(auth_jwt_verify(&key, x, (time_t)NOW, &out), JWT_BAD_SIGNATURE);
	free(x);
	/* The unedited round trip through our base64url still verifies. */
	x = with_payload_edit(t, "\"sub\"", "\"sub\"");
	assert_int_equal(auth_jwt_verify(&key, x, (time_t)NOW, &out), JWT_OK);
	free(x);
	free(t);
}

static void
tampered_signature(void **state)
{
	struct jwt_claims out;
	char *t = auth_jwt_issue(&key, JWT_IDENTITY, USER, NULL, (time_t)NOW, TTL);
	char *t2 = auth_jwt_issue(&key, JWT_IDENTITY, TENANT, NULL, (time_t)NOW, TTL);
	char *sig = strrchr(t, '.') + 1;
	char *copy, orig;

	(void)state;
	assert_non_null(t);
	assert_non_null(t2);
	/* Flip the first signature character (the last may only carry padding bits). */
	orig = sig[0];
	sig[0] = orig == 'A' ? 'B' : 'A';
	assert_int_equal(auth_jwt_verify(&key, t, (time_t)NOW, &out), JWT_BAD_SIGNATURE);
	sig[0] = orig;
	/* A signature one character short. */
	copy = strdup(t);
	assert_non_null(copy);
	copy[strlen(copy) - 1] = '\0';
	assert_int_equal(auth_jwt_verify(&key, copy, (time_t)NOW, &out), JWT_BAD_SIGNATURE);
	free(copy);
	/* Another token's valid signature. */
	copy = malloc(strlen(t) + strlen(t2) + 1);
	assert_non_null(copy);
	memcpy(copy, t, (size_t)(sig - t));
	strcpy(copy + (sig - t), strrchr(t2, '.') + 1);
	assert_int_equal(auth_jwt_verify(&key, copy, (time_t)NOW, &out), JWT_BAD_SIGNATURE);
	free(copy);
	/*
	 * The last character with other padding bits decodes to the same MAC
	 * but is not its encoding: refused (one token, one spelling).
	 */
	orig = sig[strlen(sig) - 1];
	sig[strlen(sig) - 1] = (char)(orig ^ 1);
	assert_int_equal(auth_jwt_verify(&key, t, (time_t)NOW, &out), JWT_BAD_SIGNATURE);
	sig[strlen(sig) - 1] = orig;
	/* A signature one character long. */
	copy = strdup(t);
	assert_non_null(copy);
	strcpy(strrchr(copy, '.') + 1, "A");
	assert_int_equal(auth_jwt_verify(&key, copy, (time_t)NOW, &out), JWT_BAD_SIGNATURE);
	free(copy);
	/* Untouched, it still verifies. */
	assert_int_equal(auth_jwt_verify(&key, t, (time_t)NOW, &out), JWT_OK);
	free(t);
	free(t2);
}

/*
 * The MAC is keyed once per process and key: verifying with one key, then
 * another, then the first again, each token verifies under its own key only.
 */
static void
keys_alternate(void **state)
{
	const struct jwt_key other = { OTHER_KEY, sizeof(OTHER_KEY), ISSUER };
	const struct jwt_key shorter = { KEY, sizeof(KEY) - 1, ISSUER };
	struct jwt_claims out;
	char *a = auth_jwt_issue(&key, JWT_IDENTITY, USER, NULL, (time_t)NOW, TTL);
	char *b = auth_jwt_issue(&other, JWT_IDENTITY, USER, NULL, (time_t)NOW, TTL);

	(void)state;
	assert_non_null(a);
	assert_non_null(b);
	for (int i = 0; i < 3; i++) {
		assert_int_equal(auth_jwt_verify(&key, a, (time_t)NOW, &out), JWT_OK);
		assert_int_equal(auth_jwt_verify(&other, a, (time_t)NOW, &out), JWT_BAD_SIGNATURE);
		assert_int_equal(auth_jwt_verify(&other, b, (time_t)NOW, &out), JWT_OK);
		assert_int_equal(auth_jwt_verify(&key, b, (time_t)NOW, &out), JWT_BAD_SIGNATURE);
		/* A key that is a prefix of another is another key. */
		assert_int_equal(auth_jwt_verify(&shorter, a, (time_t)NOW, &out), JWT_BAD_SIGNATURE);
	}
	free(a);
	free(b);
}

/* Identity and tenant tokens are told apart by aud alone. */
static void
kinds_distinguished(void **state)
{
	struct jwt_claims a, b;
	char *ti = auth_jwt_issue(&key, JWT_IDENTITY, USER, NULL, (time_t)NOW, TTL);
	char *tt = auth_jwt_issue(&key, JWT_TENANT, USER, TENANT, (time_t)NOW, TTL);

	(void)state;
	assert_int_equal(auth_jwt_verify(&key, ti, (time_t)NOW, &a), JWT_OK);
	assert_int_equal(auth_jwt_verify(&key, tt, (time_t)NOW, &b), JWT_OK);
	assert_int_equal(a.kind, JWT_IDENTITY);
	assert_int_equal(b.kind, JWT_TENANT);
	assert_string_equal(a.tenant_id, "");
	assert_string_equal(b.tenant_id, TENANT);
	assert_string_not_equal(ti, tt);
	free(ti);
	free(tt);
}

static void
result_names(void **state)
{
	(void)state;
	for (int i = JWT_OK; i <= JWT_NOMEM; i++) {
		const char *n = auth_jwt_result_name((enum jwt_result)i);

		assert_non_null(n);
		assert_string_not_equal(n, "unknown");
		for (int k = JWT_OK; k < i; k++)
			assert_string_not_equal(n, auth_jwt_result_name((enum jwt_result)k));
	}
	assert_string_equal(auth_jwt_result_name(JWT_OK), "ok");
	assert_string_equal(auth_jwt_result_name(JWT_EXPIRED), "expired");
	assert_string_equal(auth_jwt_result_name((enum jwt_result)(JWT_NOMEM + 1)), "unknown");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(claim_table),
		cmocka_unit_test(shape_table),
		cmocka_unit_test(libjwt_other_algs_refused),
		cmocka_unit_test(garbage_table),
		cmocka_unit_test(length_boundary),
		cmocka_unit_test(issue_identity),
		cmocka_unit_test(issue_tenant),
		cmocka_unit_test(issued_expiry_boundary),
		cmocka_unit_test(issuer_pinned),
		cmocka_unit_test(tampered_payload),
		cmocka_unit_test(tampered_signature),
		cmocka_unit_test(kinds_distinguished),
		cmocka_unit_test(keys_alternate),
		cmocka_unit_test(result_names),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
