/* core_json_parse: JSON.parse's reading of NULs and big integers. */
#include <string.h>

#include "core/core.h"
#include "core/json_out.h"
#include "check.h"

static void same(const char *in, const char *want)
{
    json_t *v = core_json_parse(in, strlen(in), NULL);
    char *out = v ? json_out_str(v, 0, 0, NULL) : NULL;

    CHECK_EQ_STR(out, want);
    free(out);
    json_decref(v);
}

int main(void)
{
    json_error_t err;
    json_t *v;

    same("{\"a\":\"x\\u0000y\"}", "{\"a\":\"x\\u0000y\"}");
    same("[1,2,123456789012345680000]", "[1,2,123456789012345680000]");
    same("{\"n\":9007199254740993000,\"m\":3}", "{\"n\":9007199254740993000,\"m\":3}");
    same("\"s\"", "\"s\"");
    same("5", "5");
    v = core_json_parse("[1,2,123456789012345680000]", 27, NULL);
    CHECK(json_is_integer(json_array_get(v, 0)));
    CHECK(json_is_real(json_array_get(v, 2)));
    json_decref(v);
    CHECK(core_json_parse("{bad", 4, &err) == NULL);
    CHECK(strlen(err.text) > 0);
    CHECK(core_json_parse("1e400", 5, NULL) == NULL);
    return check_done();
}
