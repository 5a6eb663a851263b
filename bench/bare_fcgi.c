/*
 * bare_fcgi -- the benchmark ceiling: the cheapest possible libfcgi responder.
 *
 * It answers `GET /health` (and HEAD) with exactly the bytes tenantry.fcgi
 * sends for /health (src/http/response.c, http_send):
 *
 *   Status: 200 OK\r\n
 *   Content-Type: text/plain; charset=utf-8\r\n
 *   Content-Length: 3\r\n
 *   X-Content-Type-Options: nosniff\r\n
 *   Cache-Control: no-store\r\n
 *   X-Request-Id: <REQUEST_ID from nginx>\r\n
 *   \r\n
 *   ok\n
 *
 * Anything else gets a 404 with the same header set and body "not found\n".
 * No database, no allocation per request, no logging: what is left is the
 * cost of nginx + the FastCGI protocol + libfcgi, which bench/run compares
 * tenantry.fcgi against.  It also stands in for the worker while developing
 * the run scripts (TENANTRY_WORKER_BIN=bench/bare_fcgi scripts/dev up).
 *
 * Run under spawn-fcgi (listening socket on fd 0), like the real worker.
 *
 * Build by hand:  gcc -O2 -Wall -o bench/bare_fcgi bench/bare_fcgi.c -lfcgi
 */
#include <fcgiapp.h>
#include <stdio.h>
#include <string.h>

/* nginx's $request_id is 32 hex digits; refuse to echo anything that could
 * break the header block (CR, LF, non-printables) or is absurdly long. */
static const char *safe_request_id(const char *id)
{
    size_t n = 0;

    if (id == NULL)
        return "-";
    for (const char *p = id; *p != '\0'; p++, n++) {
        unsigned char c = (unsigned char)*p;
        if (n >= 128 || c <= 0x20 || c >= 0x7f)
            return "-";
    }
    return n ? id : "-";
}

/* Path part of REQUEST_URI (without the query string) equals want? */
static int path_is(const char *uri, const char *want)
{
    size_t len;

    if (uri == NULL)
        return 0;
    len = strcspn(uri, "?");
    return len == strlen(want) && memcmp(uri, want, len) == 0;
}

int main(void)
{
    FCGX_Request req;

    if (FCGX_Init() != 0)
        return 1;
    if (FCGX_InitRequest(&req, 0, 0) != 0)
        return 1;

    while (FCGX_Accept_r(&req) >= 0) {
        const char *method = FCGX_GetParam("REQUEST_METHOD", req.envp);
        const char *uri = FCGX_GetParam("REQUEST_URI", req.envp);
        const char *rid = safe_request_id(FCGX_GetParam("REQUEST_ID", req.envp));
        int head = method != NULL && strcmp(method, "HEAD") == 0;
        int get = method != NULL && strcmp(method, "GET") == 0;

        if ((get || head) && path_is(uri, "/health")) {
            FCGX_FPrintF(req.out,
                         "Status: 200 OK\r\n"
                         "Content-Type: text/plain; charset=utf-8\r\n"
                         "Content-Length: 3\r\n"
                         "X-Content-Type-Options: nosniff\r\n"
                         "Cache-Control: no-store\r\n"
                         "X-Request-Id: %.100s\r\n"
                         "\r\n",
                         rid);
            if (!head)
                FCGX_PutStr("ok\n", 3, req.out);
        } else {
            FCGX_FPrintF(req.out,
                         "Status: 404 Not Found\r\n"
                         "Content-Type: text/plain; charset=utf-8\r\n"
                         "Content-Length: 10\r\n"
                         "X-Content-Type-Options: nosniff\r\n"
                         "Cache-Control: no-store\r\n"
                         "X-Request-Id: %.100s\r\n"
                         "\r\n",
                         rid);
            if (!head)
                FCGX_PutStr("not found\n", 10, req.out);
        }
        FCGX_Finish_r(&req);
    }
    return 0;
}
