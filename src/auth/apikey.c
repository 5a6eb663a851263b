/* apikey.c: API keys: the tnt_ format with its CRC32 checksum, hashing, display prefix. */
#include "auth/apikey.h"
#include "core/util.h"

#include <string.h>

static const char b62[] = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

uint32_t
auth_crc32(const void *p, size_t n)
{
	static uint32_t table[256];
	static bool ready;
	const unsigned char *s = p;
	uint32_t c = 0xffffffffu;

	if (!ready) {   /* single-threaded programs: a benign one-time fill */
		for (uint32_t i = 0; i < 256; i++) {
			uint32_t v = i;

			for (int k = 0; k < 8; k++)
				v = (v & 1) ? 0xedb88320u ^ (v >> 1) : v >> 1;
			table[i] = v;
		}
		ready = true;
	}
	for (size_t i = 0; i < n; i++)
		c = table[(c ^ s[i]) & 0xff] ^ (c >> 8);
	return c ^ 0xffffffffu;
}

void
auth_base62_6(uint32_t v, char out[7])
{
	for (int i = 5; i >= 0; i--) {
		out[i] = b62[v % 62];
		v /= 62;
	}
	out[6] = '\0';
}

static int
b62_digit(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'A' && c <= 'Z')
		return c - 'A' + 10;
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 36;
	return -1;
}

bool
auth_base62_6_parse(const char *s, uint32_t *v)
{
	uint64_t x = 0;

	for (int i = 0; i < 6; i++) {
		int d = b62_digit(s[i]);

		if (d < 0)
			return false;
		x = x * 62 + (uint64_t)d;
	}
	if (x > UINT32_MAX)
		return false;   /* non-canonical: no key carries it */
	*v = (uint32_t)x;
	return true;
}

bool
auth_apikey_new(char out[APIKEY_LEN + 1])
{
	memcpy(out, APIKEY_PREFIX, 4);
	if (!core_random_base62(out + 4, APIKEY_RANDOM_LEN))
		return false;
	auth_base62_6(auth_crc32(out, 4 + APIKEY_RANDOM_LEN), out + 4 + APIKEY_RANDOM_LEN);
	return true;
}

bool
auth_apikey_valid(const char *s)
{
	uint32_t want;

	if (s == NULL || strlen(s) != APIKEY_LEN || memcmp(s, APIKEY_PREFIX, 4) != 0)
		return false;
	for (int i = 4; i < 4 + APIKEY_RANDOM_LEN; i++)
		if (b62_digit(s[i]) < 0)
			return false;
	return auth_base62_6_parse(s + 4 + APIKEY_RANDOM_LEN, &want) &&
	    want == auth_crc32(s, 4 + APIKEY_RANDOM_LEN);
}

void
auth_apikey_display(const char *key, char out[APIKEY_DISPLAY_LEN + 1])
{
	memcpy(out, key, APIKEY_DISPLAY_LEN);
	out[APIKEY_DISPLAY_LEN] = '\0';
}
