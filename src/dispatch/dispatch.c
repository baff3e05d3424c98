/*
 * dispatch.c - placeholder until the action processor lands.
 * TODO(#2): the action processor.
 */
#include "dispatch/dispatch.h"

int dispatch_in_flight(ah_app_t *app)
{
    (void)app;
    return 0;
}
