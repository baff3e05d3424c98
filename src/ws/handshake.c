/*
 * handshake.c - the RFC 6455 opening handshake (§4.2): validate the upgrade
 * request the HTTP layer parsed, compute Sec-WebSocket-Accept and write the
 * 101 response.
 *
 * The checks and their order follow the `ws` library that Primus (and so
 * Actionhero) uses, with two deliberate differences taken from the RFC: the
 * request must be HTTP/1.1 or later, and an unsupported
 * Sec-WebSocket-Version is answered 426 with `Sec-WebSocket-Version: 13`
 * (RFC 6455 §4.4) instead of ws's 400.  A request without an Upgrade header
 * or without the `upgrade` token in Connection is not an upgrade at all for
 * Node's HTTP parser: Primus answers it as a plain request, 426
 * `Upgrade Required`, and so do we.
 *
 * Like ws (with no handleProtocols hook, as Primus configures it) the first
 * subprotocol the client offers is selected; extensions are ignored since
 * per-message compression is off.
 */
#include <string.h>
#include <strings.h>

/* The low-level SHA-1 calls are deprecated in OpenSSL 3 but present; they
 * are what lets the server link libcrypto.a statically and pull in only the
 * SHA-1 code (EVP would drag in the provider machinery), which keeps about
 * 1.4 MB of shared-library pages out of every process.  The warning is
 * silenced here only. */
#define OPENSSL_SUPPRESS_DEPRECATED
#include <openssl/sha.h>
#include <sodium.h>

#include "ws/ws_internal.h"

static const char ws_guid[] = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";

static bool is_space(char c)
{
    return c == ' ' || c == '\t';
}

/* RFC 7230 tchar. */
static bool is_tchar(unsigned char c)
{
    if (c >= '0' && c <= '9')
        return true;
    if ((c | 0x20) >= 'a' && (c | 0x20) <= 'z')
        return true;
    return c != '\0' && strchr("!#$%&'*+-.^_`|~", c) != NULL;
}

bool ws_header_has_token(const char *value, const char *token)
{
    size_t tlen = strlen(token);
    const char *p = value;

    if (value == NULL)
        return false;
    while (*p) {
        const char *start, *end;

        while (*p == ',' || is_space(*p))
            p++;
        start = p;
        while (*p && *p != ',')
            p++;
        end = p;
        while (end > start && is_space(end[-1]))
            end--;
        if ((size_t)(end - start) == tlen && strncasecmp(start, token, tlen) == 0)
            return true;
    }
    return false;
}

/* Parse Sec-WebSocket-Protocol the way ws does: comma-separated tokens,
 * optional whitespace around commas, no empty or duplicate entries.  On
 * success copies the first one into out (NUL-terminated) and returns 0. */
static int first_subprotocol(const char *value, char *out, size_t outlen)
{
    const char *p = value;
    const char *first = NULL;
    size_t first_len = 0;

    for (;;) {
        const char *start, *q;
        size_t n;

        while (is_space(*p))
            p++;
        start = p;
        while (is_tchar((unsigned char)*p))
            p++;
        n = (size_t)(p - start);
        if (n == 0)
            return -1;
        /* duplicates are an error for ws */
        for (q = value; q < start;) {
            const char *s;

            while (*q == ',' || is_space(*q))
                q++;
            if (q >= start)
                break;
            s = q;
            while (is_tchar((unsigned char)*q))
                q++;
            if (q > s && (size_t)(q - s) == n && memcmp(s, start, n) == 0)
                return -1;
        }
        if (first == NULL) {
            first = start;
            first_len = n;
        }
        while (is_space(*p))
            p++;
        if (*p == '\0')
            break;
        if (*p != ',')
            return -1;
        p++;
    }
    if (first_len >= outlen)
        return -1;
    memcpy(out, first, first_len);
    out[first_len] = '\0';
    return 0;
}

void ws_handshake_accept(const char *key, char out[WS_ACCEPT_LEN + 1])
{
    unsigned char md[SHA_DIGEST_LENGTH];
    SHA_CTX ctx;

    if (SHA1_Init(&ctx) != 1 || SHA1_Update(&ctx, key, strlen(key)) != 1 ||
        SHA1_Update(&ctx, ws_guid, sizeof(ws_guid) - 1) != 1 || SHA1_Final(md, &ctx) != 1)
        AH_BUG("SHA-1 failed in libcrypto");
    sodium_bin2base64(out, WS_ACCEPT_LEN + 1, md, sizeof(md), sodium_base64_VARIANT_ORIGINAL);
}

static bool key_is_valid(const char *key)
{
    unsigned char bin[20];
    size_t binlen = 0;
    const char *end = NULL;
    size_t n;

    if (key == NULL)
        return false;
    n = strlen(key);
    if (n != 24)
        return false;
    if (sodium_base642bin(bin, sizeof(bin), key, n, NULL, &binlen, &end,
                          sodium_base64_VARIANT_ORIGINAL) != 0)
        return false;
    return end == key + n && binlen == 16;
}

static int fail(int code, const char *text, int *status, const char **body)
{
    *status = code;
    *body = text;
    return AH_EINVAL;
}

int ws_handshake_check(const struct ws_upgrade_req *req, struct ws_handshake *hs,
                       int *status, const char **body)
{
    memset(hs, 0, sizeof(*hs));
    /* Not an upgrade for an HTTP parser: a plain request under the path. */
    if (req->upgrade == NULL || !ws_header_has_token(req->connection, "upgrade"))
        return fail(426, "Upgrade Required", status, body);
    if (req->method == NULL || strcmp(req->method, "GET") != 0)
        return fail(405, "Invalid HTTP method", status, body);
    if (req->http_major < 1 || (req->http_major == 1 && req->http_minor < 1))
        return fail(400, "Invalid HTTP version", status, body);
    if (!ws_header_has_token(req->upgrade, "websocket"))
        return fail(400, "Invalid Upgrade header", status, body);
    if (!key_is_valid(req->key))
        return fail(400, "Missing or invalid Sec-WebSocket-Key header", status, body);
    if (req->version == NULL || strcmp(req->version, "13") != 0)
        return fail(426, "Missing or invalid Sec-WebSocket-Version header", status, body);
    if (req->protocol != NULL &&
        first_subprotocol(req->protocol, hs->protocol, sizeof(hs->protocol)) < 0)
        return fail(400, "Invalid Sec-WebSocket-Protocol header", status, body);
    ws_handshake_accept(req->key, hs->accept);
    return 0;
}

void ws_handshake_response(struct buf *out, const struct ws_handshake *hs)
{
    buf_adds(out, "HTTP/1.1 101 Switching Protocols\r\n"
                  "Upgrade: websocket\r\n"
                  "Connection: Upgrade\r\n"
                  "Sec-WebSocket-Accept: ");
    buf_adds(out, hs->accept);
    buf_adds(out, "\r\n");
    if (hs->protocol[0]) {
        buf_adds(out, "Sec-WebSocket-Protocol: ");
        buf_adds(out, hs->protocol);
        buf_adds(out, "\r\n");
    }
    buf_adds(out, "\r\n");
}

const char *ws_upgrade_error_headers(int status)
{
    if (status == 426)
        return "Sec-WebSocket-Version: 13\r\n"
               "Cache-Control: no-store, no-cache, must-revalidate, max-age=0\r\n"
               "Pragma: no-cache\r\n";
    return "";
}
