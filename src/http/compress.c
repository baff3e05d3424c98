/*
 * compress.c - response compression (web.md §9.2): the choice of
 * encoding from Accept-Encoding (whole words "gzip" and "deflate", the first
 * one present wins, no q-values, as Actionhero does) and zlib helpers.
 * "deflate" is the zlib format, as Node's zlib.deflate produces.
 */
#include "http/http_internal.h"

#include <ctype.h>
#include <string.h>

/* Position of `word` as a whole word (JS \b) in s, or -1. */
static long word_at(const char *s, const char *word)
{
    size_t wl = strlen(word);
    const char *p = s;

    while ((p = strstr(p, word)) != NULL) {
        bool left = p == s || !(isalnum((unsigned char)p[-1]) || p[-1] == '_');
        bool right = !(isalnum((unsigned char)p[wl]) || p[wl] == '_');

        if (left && right)
            return (long)(p - s);
        p++;
    }
    return -1;
}

int http_choose_encoding(struct http_req *req)
{
    const char *ae;
    long g, d;

    if (!req->srv->cfg.compress)
        return HTTP_ENC_NONE;
    ae = http_req_header(req, "accept-encoding", NULL);
    if (ae == NULL)
        return HTTP_ENC_NONE;
    g = word_at(ae, "gzip");
    d = word_at(ae, "deflate");
    if (g >= 0 && (d < 0 || g < d))
        return HTTP_ENC_GZIP;
    if (d >= 0)
        return HTTP_ENC_DEFLATE;
    return HTTP_ENC_NONE;
}

int http_deflate_init(z_stream *zs, int enc)
{
    memset(zs, 0, sizeof(*zs));
    /* windowBits 15, +16 for the gzip wrapper; Node's defaults otherwise */
    return deflateInit2(zs, Z_DEFAULT_COMPRESSION, Z_DEFLATED, enc == HTTP_ENC_GZIP ? 15 + 16 : 15, 8,
                        Z_DEFAULT_STRATEGY) == Z_OK ? 0 : -1;
}

int http_deflate_step(z_stream *zs, const void *in, size_t n, bool finish, struct buf *out)
{
    int rc;

    zs->next_in = (Bytef *)(uintptr_t)in;
    zs->avail_in = (uInt)n;
    do {
        buf_grow(out, 16384);
        zs->next_out = (Bytef *)(out->data + out->len);
        zs->avail_out = (uInt)(out->cap - out->len - 1);
        rc = deflate(zs, finish ? Z_FINISH : Z_NO_FLUSH);
        if (rc == Z_STREAM_ERROR)
            return -1;
        out->len = out->cap - 1 - zs->avail_out;
    } while (zs->avail_out == 0 || (finish && rc != Z_STREAM_END));
    out->data[out->len] = '\0';
    return finish ? (rc == Z_STREAM_END ? 1 : -1) : 0;
}

int http_compress(int enc, const void *in, size_t n, struct buf *out)
{
    z_stream zs;
    int rc;

    if (http_deflate_init(&zs, enc) < 0)
        return -1;
    rc = http_deflate_step(&zs, in, n, true, out);
    deflateEnd(&zs);
    return rc == 1 ? 0 : -1;
}

const char *http_encoding_name(int enc)
{
    return enc == HTTP_ENC_GZIP ? "gzip" : enc == HTTP_ENC_DEFLATE ? "deflate" : "identity";
}
