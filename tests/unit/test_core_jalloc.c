/*
 * test_core_jalloc.c - jansson on the per-thread free lists: values of
 * every size class and beyond come back intact after reuse, blocks freed
 * by another thread are reused safely, and trimming empties the lists.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "core/core.h"
#include "core/jalloc.h"
#include "core/json_out.h"

#define N 2000

static json_t *make(int i)
{
    char key[32], text[600];
    json_t *o = json_object();
    int len = i % 590;

    memset(text, 'a' + i % 26, (size_t)len);
    text[len] = '\0';
    snprintf(key, sizeof(key), "k%d", i);
    json_object_set_new(o, key, json_string(text));
    json_object_set_new(o, "n", json_integer(i));
    json_object_set_new(o, "r", json_real(i + 0.5));
    json_object_set_new(o, "a", json_pack("[i,s,b]", i, key, i & 1));
    return o;
}

static int check_value(json_t *o, int i)
{
    char key[32];
    json_t *s, *a;

    snprintf(key, sizeof(key), "k%d", i);
    s = json_object_get(o, key);
    a = json_object_get(o, "a");
    return s && json_string_length(s) == (size_t)(i % 590) &&
           (i % 590 == 0 || json_string_value(s)[0] == 'a' + i % 26) &&
           json_integer_value(json_object_get(o, "n")) == i &&
           json_real_value(json_object_get(o, "r")) == i + 0.5 &&
           json_integer_value(json_array_get(a, 0)) == i &&
           strcmp(json_string_value(json_array_get(a, 1)), key) == 0 &&
           json_is_boolean(json_array_get(a, 2)) && (json_is_true(json_array_get(a, 2)) == (i & 1));
}

static json_t *values[N];

static void *free_half(void *arg)
{
    int i;

    (void)arg;
    for (i = 0; i < N; i += 2) {
        json_decref(values[i]);
        values[i] = NULL;
    }
    for (i = 0; i < N; i += 2)      /* and reuse them on this thread */
        values[i] = make(i);
    jalloc_trim();
    return NULL;
}

int main(void)
{
    pthread_t t;
    int i, round, bad = 0;

    jalloc_install();
    for (round = 0; round < 3; round++) {
        for (i = 0; i < N; i++)
            values[i] = make(i);
        for (i = 0; i < N; i++)
            bad += !check_value(values[i], i);
        for (i = 0; i < N; i += 3) {  /* free some, make them again */
            json_decref(values[i]);
            values[i] = make(i);
        }
        for (i = 0; i < N; i++)
            bad += !check_value(values[i], i);
        CHECK_EQ_INT(pthread_create(&t, NULL, free_half, NULL), 0);
        pthread_join(t, NULL);
        for (i = 0; i < N; i++)
            bad += !check_value(values[i], i);
        {
            char *s = json_out_str(values[7], 0, 0, NULL);

            CHECK_EQ_STR(s, "{\"k7\":\"hhhhhhh\",\"n\":7,\"r\":7.5,\"a\":[7,\"k7\",true]}");
            free(s);
        }
        for (i = 0; i < N; i++)
            json_decref(values[i]);
    }
    CHECK_EQ_INT(bad, 0);
    /* jansson's own strings may still be released with free(), as with
     * the default allocator (action code does this with json_dumps) */
    for (i = 0; i < 1000; i++) {
        json_t *v = make(i);
        char *s = json_dumps(v, JSON_COMPACT);

        bad += s == NULL || strstr(s, "\"n\":") == NULL;
        free(s);
        json_decref(v);
    }
    CHECK_EQ_INT(bad, 0);
    jalloc_trim();
    /* after a trim the lists are empty and allocation still works */
    values[0] = make(3);
    CHECK(check_value(values[0], 3));
    json_decref(values[0]);
    jalloc_trim();
    return check_done();
}
