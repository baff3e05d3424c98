/*
 * reqinfo.c - the small pure pieces of the request pipeline, kept apart so
 * unit tests can reach them: cookies and the fingerprint cookie
 * (connection.md §2.1), remote address (§2.3), path splitting (web.md
 * §4.1), the params merge helper (§6.1), JSONP escaping and the error
 * status (§6.4-§6.5).
 */
#include "http/http_internal.h"

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dispatch/dispatch.h"

#include <sodium.h>

static bool js_space(unsigned char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f';
}

static void trim(const char **s, size_t *n)
{
    while (*n > 0 && js_space((unsigned char)**s)) {
        (*s)++;
        (*n)--;
    }
    while (*n > 0 && js_space((unsigned char)(*s)[*n - 1]))
        (*n)--;
}

/* utils.parseCookies: split on ';', each piece on '='; name = part 0
 * trimmed, value = part 1 trimmed (a value holding '=' is cut there). */
json_t *http_parse_cookies(const char *s, size_t n)
{
    json_t *o = json_object();
    const char *end = s + n;

    while (s && s <= end) {
        const char *semi = memchr(s, ';', (size_t)(end - s));
        const char *pe = semi ? semi : end;
        const char *eq = memchr(s, '=', (size_t)(pe - s));
        const char *name = s, *val = "";
        size_t nlen = (size_t)((eq ? eq : pe) - s), vlen = 0;

        if (eq) {
            const char *eq2 = memchr(eq + 1, '=', (size_t)(pe - eq - 1));

            val = eq + 1;
            vlen = (size_t)((eq2 ? eq2 : pe) - val);
        }
        trim(&name, &nlen);
        trim(&val, &vlen);
        {
            char *k = xstrndup(name, nlen);
            json_t *v = json_stringn(val, vlen);

            if (v && memchr(k, '\0', nlen) == NULL)
                json_object_set_new(o, k, v);
            else
                json_decref(v);
            free(k);
        }
        if (!semi)
            break;
        s = semi + 1;
    }
    return o;
}

/* The value of cookie `key` with the same rules (the last one wins),
 * without building the object. */
bool http_cookie_value(const char *s, size_t n, const char *key, const char **val, size_t *vlen)
{
    const char *end = s + n;
    size_t kl = strlen(key);
    bool found = false;

    while (s <= end) {
        const char *semi = memchr(s, ';', (size_t)(end - s));
        const char *pe = semi ? semi : end;
        const char *eq = memchr(s, '=', (size_t)(pe - s));
        const char *name = s, *v = "";
        size_t nlen = (size_t)((eq ? eq : pe) - s), vl = 0;

        trim(&name, &nlen);
        if (nlen == kl && memcmp(name, key, kl) == 0) {
            if (eq) {
                const char *eq2 = memchr(eq + 1, '=', (size_t)(pe - eq - 1));

                v = eq + 1;
                vl = (size_t)((eq2 ? eq2 : pe) - v);
                trim(&v, &vl);
            }
            *val = v;
            *vlen = vl;
            found = true;
        }
        if (!semi)
            break;
        s = semi + 1;
    }
    return found;
}

/* browser_fingerprint's Set-Cookie: "<key>=<fp>;" then each setting as
 * "k=v;" ("k;" when falsy), expires rendered as now + ms in UTC. */
void http_fingerprint_cookie(const char *key, const char *fp, json_t *settings, uint64_t now_ms,
                             struct buf *out)
{
    const char *k;
    json_t *v;

    buf_adds(out, key);
    buf_addc(out, '=');
    buf_adds(out, fp);
    if (settings == NULL || json_is_null(settings))
        return;
    buf_addc(out, ';');
    if (json_is_string(settings)) {
        buf_adds(out, json_string_value(settings));
        return;
    }
    if (!json_is_object(settings))
        return;
    json_object_foreach(settings, k, v) {
        buf_adds(out, k);
        if (strcmp(k, "expires") == 0) {
            char date[40];
            double ms = json_is_number(v) ? json_number_value(v) : 0;

            if (json_is_string(v))
                ms = atof(json_string_value(v));
            core_http_date((uint64_t)((double)now_ms + ms), date, sizeof(date));
            buf_addc(out, '=');
            buf_adds(out, date);
        } else if (core_truthy(v)) {
            char *t = dispatch_js_string(v);

            buf_addc(out, '=');
            buf_adds(out, t);
            free(t);
        }
        buf_addc(out, ';');
    }
}

/* ------------------------------------------------------------ random ids */

static void rnd_take(struct http_server *srv, unsigned char *out, size_t n)
{
    if (srv->rnd_left < n) {
        randombytes_buf(srv->rnd, sizeof(srv->rnd));
        srv->rnd_left = sizeof(srv->rnd);
    }
    memcpy(out, srv->rnd + sizeof(srv->rnd) - srv->rnd_left, n);
    /* bytes handed out are not kept */
    sodium_memzero(srv->rnd + sizeof(srv->rnd) - srv->rnd_left, n);
    srv->rnd_left -= n;
}

static const char hexd[] = "0123456789abcdef";

void http_random_fingerprint(struct http_server *srv, char out[41])
{
    unsigned char r[20];
    int i;

    rnd_take(srv, r, sizeof(r));
    for (i = 0; i < 20; i++) {
        out[2 * i] = hexd[r[i] >> 4];
        out[2 * i + 1] = hexd[r[i] & 15];
    }
    out[40] = '\0';
}

void http_random_uuid(struct http_server *srv, char out[37])
{
    unsigned char r[16];
    int i, j = 0;

    rnd_take(srv, r, sizeof(r));
    r[6] = (unsigned char)((r[6] & 0x0f) | 0x40);
    r[8] = (unsigned char)((r[8] & 0x3f) | 0x80);
    for (i = 0; i < 16; i++) {
        if (i == 4 || i == 6 || i == 8 || i == 10)
            out[j++] = '-';
        out[j++] = hexd[r[i] >> 4];
        out[j++] = hexd[r[i] & 15];
    }
    out[j] = '\0';
}

/* Copy, cut to the destination (connection fields are fixed-size). */
static void set_str(char *dst, size_t n, const char *src)
{
    size_t l = strlen(src);

    if (l >= n)
        l = n - 1;
    memcpy(dst, src, l);
    dst[l] = '\0';
}

/* parseIPv6URI's regex, compiled once. */
static pcre2_code *ipv6_re;

static int ipv6_bracketed(const char *s, char *host, size_t hostlen, char *port, size_t portlen)
{
    pcre2_match_data *md;
    PCRE2_SIZE *ov;
    int rc;

    if (ipv6_re == NULL) {
        int errcode;
        PCRE2_SIZE erroff;

        ipv6_re = pcre2_compile((PCRE2_SPTR) "\\[([0-9a-f:]+(?:%.+)?)]:([0-9]{1,5})", PCRE2_ZERO_TERMINATED, 0,
                                &errcode, &erroff, NULL);
        if (ipv6_re == NULL)
            return -1;
    }
    md = pcre2_match_data_create_from_pattern(ipv6_re, NULL);
    rc = pcre2_match(ipv6_re, (PCRE2_SPTR)s, strlen(s), 0, 0, md, NULL);
    if (rc < 3) {
        pcre2_match_data_free(md);
        return -1;
    }
    ov = pcre2_get_ovector_pointer(md);
    snprintf(host, hostlen, "%.*s", (int)(ov[3] - ov[2]), s + ov[2]);
    snprintf(port, portlen, "%.*s", (int)(ov[5] - ov[4]), s + ov[4]);
    pcre2_match_data_free(md);
    return 0;
}

/* utils.parseHeadersForClientAddress */
int http_remote_addr(const char *xff, const char *xfport, const char *xrealip, struct remote_addr *out)
{
    memset(out, 0, sizeof(*out));
    if (xff && *xff) {
        const char *comma = strchr(xff, ',');
        size_t n = comma ? (size_t)(comma - xff) : strlen(xff);
        char first[256];

        if (n >= sizeof(first))
            n = sizeof(first) - 1;
        memcpy(first, xff, n);
        first[n] = '\0';
        if (strchr(first, '.') || !strchr(first, ':')) {
            /* IPv4: drop the first "::ffff:", then ip[:port] */
            char tmp[256];
            char *f = strstr(first, "::ffff:");
            char *colon, *p2;

            if (f) {
                snprintf(tmp, sizeof(tmp), "%.*s%s", (int)(f - first), first, f + 7);
                snprintf(first, sizeof(first), "%s", tmp);
            }
            colon = strchr(first, ':');
            if (colon) {
                *colon = '\0';
                p2 = colon + 1;
                /* split(":")[1]: up to the next ':' */
                {
                    char *c2 = strchr(p2, ':');

                    if (c2)
                        *c2 = '\0';
                }
                if (*p2) {
                    set_str(out->port, sizeof(out->port), p2);
                    out->port_is_string = true;
                    out->have_port = true;
                }
            }
            if (first[0]) {
                set_str(out->ip, sizeof(out->ip), first);
                out->have_ip = true;
            }
        } else if (strchr(first, '[') && strchr(first, ']')) {
            char host[64], port[8];

            if (ipv6_bracketed(first, host, sizeof(host), port, sizeof(port)) < 0)
                return -1;
            if (host[0]) {
                set_str(out->ip, sizeof(out->ip), host);
                out->have_ip = true;
            }
            /* parseInt(port): a number; 0 is falsy and ignored */
            if (atoi(port) != 0) {
                snprintf(out->port, sizeof(out->port), "%d", atoi(port));
                out->port_is_string = false;
                out->have_port = true;
            }
        } else {
            set_str(out->ip, sizeof(out->ip), first);
            out->have_ip = first[0] != '\0';
            snprintf(out->port, sizeof(out->port), "80");
            out->port_is_string = false;
            out->have_port = true;
        }
    }
    if (xfport && *xfport) {
        set_str(out->port, sizeof(out->port), xfport);
        out->port_is_string = true;
        out->have_port = true;
    }
    if (xrealip && *xrealip) {
        set_str(out->ip, sizeof(out->ip), xrealip);
        out->have_ip = true;
    }
    return 0;
}

/* pathname.split("/") with leading empty parts and one trailing empty part
 * removed. */
json_t *http_split_path(const char *p, size_t n)
{
    json_t *a = json_array();
    const char *end = p + n, *s = p;

    for (;;) {
        const char *slash = memchr(s, '/', (size_t)(end - s));
        const char *e = slash ? slash : end;

        json_array_append_new(a, json_stringn_nocheck(s, (size_t)(e - s)));
        if (!slash)
            break;
        s = slash + 1;
    }
    while (json_array_size(a) > 0 && json_string_length(json_array_get(a, 0)) == 0)
        json_array_remove(a, 0);
    if (json_array_size(a) > 0 && json_string_length(json_array_get(a, json_array_size(a) - 1)) == 0)
        json_array_remove(a, json_array_size(a) - 1);
    return a;
}

/* collapseObjectToArray: keys (in JS order: array indices first,
 * ascending) must be "0".."n-1". */
json_t *http_collapse_to_array(json_t *obj)
{
    size_t n = json_object_size(obj), i;
    const char *k;
    json_t *v, *arr;
    char *seen;

    if (!json_is_object(obj) || n == 0)
        return NULL;
    seen = xcalloc(n, 1);
    json_object_foreach(obj, k, v) {
        uint32_t idx;

        if (!core_is_array_index(k, &idx) || idx >= n || seen[idx]) {
            free(seen);
            return NULL;
        }
        seen[idx] = 1;
    }
    free(seen);
    arr = json_array();
    for (i = 0; i < n; i++) {
        char key[24];

        snprintf(key, sizeof(key), "%zu", i);
        json_array_append(arr, json_object_get(obj, key));
    }
    return arr;
}

/* fillParamsFromWebRequest */
void http_fill_params(json_t *params, json_t *vars)
{
    json_t *arr;
    const char *k;
    json_t *v;

    if (!json_is_object(vars))
        return;
    arr = http_collapse_to_array(vars);
    if (arr) {
        json_object_set_new(params, "payload", arr);
        return;
    }
    json_object_foreach(vars, k, v) json_object_set(params, k, v);
}

/* callbackHtmlEscape */
void http_callback_escape(const char *s, struct buf *out)
{
    for (; *s; s++) {
        switch (*s) {
        case '&': buf_adds(out, "&amp;"); break;
        case '"': buf_adds(out, "&quot;"); break;
        case '\'': buf_adds(out, "&#39;"); break;
        case '<': buf_adds(out, "&lt;"); break;
        case '>': buf_adds(out, "&gt;"); break;
        case '(':
        case ')': break;
        default: buf_addc(out, *s); break;
        }
    }
}

/* parseInt(String(v), 10) of an error's code; false when NaN. */
static bool parse_int_js(json_t *v, long long *out)
{
    char *s, *p;
    bool neg = false, any = false;
    long long r = 0;

    if (v == NULL)
        return false;
    if (json_is_integer(v)) {
        *out = json_integer_value(v);
        return true;
    }
    s = dispatch_js_string(v);
    p = s;
    while (js_space((unsigned char)*p))
        p++;
    if (*p == '-' || *p == '+')
        neg = *p++ == '-';
    for (; *p >= '0' && *p <= '9'; p++) {
        any = true;
        if (r < 1000000000000LL)
            r = r * 10 + (*p - '0');
    }
    free(s);
    if (!any)
        return false;
    *out = neg ? -r : r;
    return true;
}

/* web.md §6.4 */
int http_error_status(json_t *error, int action_status, int current, bool return_error_codes,
                      int default_status, bool has_error)
{
    long long code;

    if (!has_error || !return_error_codes || current != 200)
        return current;
    if (json_is_object(error) && parse_int_js(json_object_get(error, "code"), &code) && code >= 100 &&
        code < 600)
        return (int)code;
    if (action_status == AH_STATUS_UNKNOWN_ACTION)
        return 404;
    if (action_status == AH_STATUS_MISSING_PARAMS)
        return 422;
    return default_status;
}
