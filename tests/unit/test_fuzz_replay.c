/*
 * test_fuzz_replay.c - replays every file of tests/fuzz/corpus/{qs,form,
 * multipart} through the fuzz targets (tests/fuzz/targets.h), so `make test`
 * runs the corpus under ASan+UBSan without clang.  A target aborts on a
 * broken property; here that fails the test binary.
 *
 * The corpus is found from the current directory (tests/run-all.sh runs
 * from the repository root) or by walking up from the binary's path.
 */
#include <limits.h>
#include <sys/stat.h>

#include "../fuzz/targets.h"

#include "check.h"

static bool is_dir(const char *p)
{
    struct stat st;

    return stat(p, &st) == 0 && S_ISDIR(st.st_mode);
}

static bool find_corpus(const char *argv0, char *out, size_t outlen)
{
    char exe[PATH_MAX], *slash;
    int up;

    snprintf(out, outlen, "tests/fuzz/corpus");
    if (is_dir(out))
        return true;
    if (realpath(argv0, exe) == NULL)
        return false;
    for (up = 0; up < 5 && (slash = strrchr(exe, '/')) != NULL; up++) {
        *slash = '\0';
        if (strlen(exe) + 20 > outlen)
            return false;
        memcpy(out, exe, strlen(exe));
        memcpy(out + strlen(exe), "/tests/fuzz/corpus", 19);
        if (is_dir(out))
            return true;
    }
    return false;
}

static int replay(const char *corpus, const char *name, int (*target)(const uint8_t *, size_t))
{
    char dir[PATH_MAX + 32], path[PATH_MAX + 300];
    DIR *d;
    struct dirent *e;
    int runs = 0;

    snprintf(dir, sizeof(dir), "%s/%s", corpus, name);
    d = opendir(dir);
    CHECK(d != NULL);
    while (d && (e = readdir(d))) {
        char *data;
        size_t len;
        FILE *f;
        struct buf b = BUF_INIT;
        char tmp[4096];
        size_t k;

        if (e->d_name[0] == '.')
            continue;
        snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
        f = fopen(path, "rb");
        CHECK(f != NULL);
        if (f == NULL)
            continue;
        buf_init(&b);
        while ((k = fread(tmp, 1, sizeof(tmp), f)) > 0)
            buf_add(&b, tmp, k);
        fclose(f);
        data = buf_detach(&b, &len);
        /* an exact-size copy, so ASan sees reads past the input */
        {
            uint8_t *exact = xmalloc(len ? len : 1);

            memcpy(exact, data, len);
            CHECK_EQ_INT(target(exact, len), 0);
            free(exact);
        }
        free(data);
        runs++;
    }
    if (d)
        closedir(d);
    printf("# %s: %d inputs\n", name, runs);
    CHECK(runs >= 20);
    return runs;
}

int main(int argc, char **argv)
{
    char corpus[PATH_MAX];

    (void)argc;
    if (!find_corpus(argv[0], corpus, sizeof(corpus))) {
        CHECK(!"tests/fuzz/corpus not found");
        return check_done();
    }
    replay(corpus, "qs", fuzz_qs);
    replay(corpus, "form", fuzz_form);
    replay(corpus, "multipart", fuzz_multipart);
    return check_done();
}
