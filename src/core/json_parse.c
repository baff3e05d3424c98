/*
 * json_parse.c - JSON text as JavaScript's JSON.parse reads it.
 *
 * jansson refuses some texts JSON.parse accepts: "\u0000" inside strings
 * (JSON_ALLOW_NUL fixes that) and integers past 64 bits, which JavaScript
 * reads as doubles.  For the latter we parse again with every integer as a
 * real and turn the integral, exactly representable ones back into
 * integers, so that "1" stays an integer and 1e20 written by
 * JSON.stringify as 100000000000000000000 becomes a double.  Lone UTF-16
 * surrogates ("\ud800") and numbers past the double range (1e400, which
 * JS reads as Infinity) stay errors: jansson cannot represent them.
 */
#include "core/core.h"

#include <jansson.h>

static json_t *ints_back(json_t *v)
{
    const char *k;
    json_t *e;
    size_t i;

    if (json_is_real(v)) {
        double d = json_real_value(v);

        if (d == (double)(long long)d && d >= -9007199254740992.0 && d <= 9007199254740992.0)
            return json_integer((json_int_t)d);
    } else if (json_is_array(v)) {
        json_array_foreach(v, i, e)
            json_array_set_new(v, i, ints_back(e));
    } else if (json_is_object(v)) {
        json_object_foreach(v, k, e)
            json_object_set_new(v, k, ints_back(e));
    }
    return json_incref(v);
}

json_t *core_json_parse(const char *s, size_t n, json_error_t *err)
{
    json_error_t local;
    json_t *v, *w;

    if (err == NULL)
        err = &local;
    v = json_loadb(s, n, JSON_DECODE_ANY | JSON_ALLOW_NUL, err);
    if (v == NULL && json_error_code(err) == json_error_numeric_overflow) {
        v = json_loadb(s, n, JSON_DECODE_ANY | JSON_ALLOW_NUL | JSON_DECODE_INT_AS_REAL, err);
        if (v) {
            w = ints_back(v);
            json_decref(v);
            v = w;
        }
    }
    return v;
}
