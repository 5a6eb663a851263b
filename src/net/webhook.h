/* webhook.h: outgoing webhooks: signing keys, signatures, URL and address checks, one HTTPS POST. */
#ifndef TENANTRY_WEBHOOK_H
#define TENANTRY_WEBHOOK_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/socket.h>

/*
 * Signing. Each tenant is shown one key, "whsec_" followed by 43 base64url
 * characters (49 in all): HMAC-SHA256(server secret, "tenantry-webhook:" +
 * tenant id), so it is derived, never stored, and rotates with the secret.
 * Each delivery carries "sha256=" + hex HMAC-SHA256(key, body) where key is
 * the bytes of that whole "whsec_..." string, prefix included: a customer
 * verifies with exactly the string they were shown, e.g. in Node
 *   "sha256=" + crypto.createHmac("sha256", "whsec_...").update(rawBody).digest("hex")
 */
#define WEBHOOK_KEY_LEN 49   /* strlen of a key; buffers are 64 */
#define WEBHOOK_SIG_LEN 71   /* strlen of a signature; buffers are 72 */

/* out[72] = "sha256=" + 64 lower-case hex; false only if OpenSSL fails. */
bool net_webhook_sign(const unsigned char *key, size_t keylen, const char *body, size_t len,
    char out[72]);
/* out[64] = the tenant's "whsec_..." key (NUL-terminated); false if OpenSSL fails. */
bool net_webhook_key(const unsigned char *secret, size_t len, const char *tenant_id, char out[64]);

#define WEBHOOK_URL_MAX  2048
#define WEBHOOK_HOST_MAX 255

/*
 * A parsed https://host[:port][/path][?query]. The host is lower-cased and
 * without brackets; family is AF_INET or AF_INET6 for an address literal,
 * AF_UNSPEC for a DNS name. path is the request target (path and query,
 * "/" at least, bytes above 0x7f percent-encoded); the fragment is dropped.
 */
struct webhook_url {
	char host[WEBHOOK_HOST_MAX + 1];
	char path[WEBHOOK_URL_MAX + 1];
	int  port;     /* 1..65535, 443 if not given */
	int  family;
};

/*
 * Parse url (at most 2048 bytes) into *u. Refused: another scheme than
 * https (in any case), userinfo, an empty or malformed host or port, a host
 * name whose last label is numeric but that is not a dotted-quad address
 * (so "0x7f000001" and "127.1" never reach the resolver), zone ids,
 * whitespace and control characters anywhere.
 */
bool net_webhook_url_parse(const char *url, struct webhook_url *u);

/*
 * False for every address a webhook must not reach: unspecified, loopback,
 * private, CGNAT, link-local, ULA, site-local, multicast, broadcast and
 * reserved, documentation and benchmarking ranges, and IPv6 forms embedding
 * IPv4 (mapped, compatible, NAT64, 6to4) of any of those; for IPv6, anything
 * outside global unicast 2000::/3 and the IETF protocol assignments
 * 2001::/23 (Teredo, benchmarking, ORCHID) in it. Any family but AF_INET and
 * AF_INET6 is not public.
 */
bool net_addr_is_public(const struct sockaddr *sa);

struct webhook_opts {
	const char *ca_file;      /* PEM trusted besides the system store, or NULL */
	bool        allow_private; /* tests only: let net_addr_is_public() pass all */
	int         timeout_ms;   /* <= 0: 10000 */
};

/*
 * POST body (len bytes, JSON) to url over TLS 1.2+ with the certificate
 * verified against the host name (or the address, for a literal). headers
 * is NULL or a NULL-terminated list of extra "Name: value" lines; Host,
 * Content-Type, Content-Length, Connection, Transfer-Encoding and
 * User-Agent are set here and refused there, as are lines with CR or LF.
 * Refuses the whole delivery if any address the name resolves to is not
 * public (unless o->allow_private), and connects only to addresses it has
 * checked. The timeout bounds connect, handshake, request and response
 * together (name resolution is not bounded by it).
 *
 * Returns the final HTTP status (100..599; interim 1xx responses are
 * skipped) or -1 with a one-line reason in err. err never holds the URL
 * (its path or query may be a secret), a header value or the body. SIGPIPE
 * is blocked for the calling thread during the exchange and any it raised
 * is consumed. Owns nothing on return: every socket and allocation is freed.
 */
int net_webhook_post(const struct webhook_opts *o, const char *url, const char *const *headers,
    const char *body, size_t len, char *err, size_t errlen);

/* Seconds to wait after the attempt-th failed delivery (1-based): 30 s doubling, capped at 6 h. */
int net_backoff_seconds(int attempt);

#endif
