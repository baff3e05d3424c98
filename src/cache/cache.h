/*
 * cache.h - the cache subsystem (spec/cache.md) behind include/ah/cache.h.
 *
 * The `cache` initializer (load priority 205, after the store's 200) reads
 * general.cachePrefix, general.lockPrefix, general.lockDuration,
 * redis.scanCount and the bounds cache.maxScanKeys (1000000) and
 * cache.maxDumpBytes (64 MiB) once, like Actionhero's cache module.
 * Everything goes through cluster/store.h, so both backends behave the same.
 */
#ifndef AH_SRC_CACHE_CACHE_H
#define AH_SRC_CACHE_CACHE_H

#include <stddef.h>

#include <ah/ah.h>

struct cache_config {
    const char *prefix;       /* general.cachePrefix */
    const char *lock_prefix;  /* general.lockPrefix */
    long long lock_duration;  /* general.lockDuration, ms */
    long long scan_count;     /* redis.scanCount */
    size_t max_scan_keys;     /* cache.maxScanKeys */
    size_t max_dump_bytes;    /* cache.maxDumpBytes */
};

/* Start / stop the cache of `app` (what the initializer does; exposed for
 * tests that build an app by hand).  cache_start reads the configuration;
 * returns 0 or AH_EINVAL after ah_app_fail(). */
int cache_start(ah_app_t *app);
void cache_stop(ah_app_t *app);

/* The configuration in force (borrowed), or NULL when not started. */
const struct cache_config *cache_config_get(ah_app_t *app);

#endif /* AH_SRC_CACHE_CACHE_H */
