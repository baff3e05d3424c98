/*
 * initializer.h - lifecycle modules (process.md §1).
 *
 * An initializer has load/start/stop priorities (default 1000); each phase
 * runs the phase functions in ascending priority, ties in name order.  The
 * server's own subsystems (config, log, connections, actions, routes, web
 * server, ...) are initializers too, with the priorities of process.md §1,
 * so user modules can run between them.  Phase functions run on the loop
 * thread and return 0 or a negative code; an error in initialize or start
 * stops boot (exit 1) with the message given to ah_app_fail().
 */
#ifndef AH_INITIALIZER_H
#define AH_INITIALIZER_H

#ifdef __cplusplus
extern "C" {
#endif

typedef struct ah_app ah_app_t;

typedef struct ah_initializer {
    const char *name;
    int load_priority;            /* 0 means 1000 */
    int start_priority;
    int stop_priority;
    int (*initialize)(ah_app_t *app);
    int (*start)(ah_app_t *app);
    int (*stop)(ah_app_t *app);
} ah_initializer_t;

#define AH_INITIALIZER(id) const ah_initializer_t ah_initializer__##id

/* Record why boot failed (one line, Git style) and return AH_EFAIL. */
int ah_app_fail(ah_app_t *app, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;

/* Per-initializer state: a slot the initializer may use for its own data. */
void *ah_app_get(ah_app_t *app, const char *name);
void ah_app_set(ah_app_t *app, const char *name, void *data);

#ifdef __cplusplus
}
#endif

#endif /* AH_INITIALIZER_H */
