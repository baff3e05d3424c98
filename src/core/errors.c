/*
 * errors.c - text for AH_E* and UV_E* codes.
 */
#include <uv.h>

#include <ah/ah.h>

const char ah_invalid_[] = "invalid";
const char ah_valid_stop_[] = "stop";

const char *ah_strerror(int code)
{
    switch (code) {
    case AH_EFAIL: return "failed";
    case AH_EINVAL: return "invalid argument";
    case AH_ENOTFOUND: return "not found";
    case AH_ELIMIT: return "limit reached";
    case AH_ESTATE: return "not allowed now";
    case AH_ENOMEM: return "out of memory";
    case AH_EUNAVAIL: return "unavailable";
    default:
        if (code < 0 && code > -4096)
            return uv_strerror(code);
        return "unknown error";
    }
}
