/*
 * replay_main.c - a main() for the harnesses when libFuzzer is not there:
 * runs LLVMFuzzerTestOneInput on every file named, or in the directories
 * named, on the command line.
 */
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int run_file(const char *path)
{
    FILE *f = fopen(path, "rb");
    unsigned char *data = NULL;
    size_t len = 0, cap = 0, k;

    if (f == NULL) {
        perror(path);
        return 1;
    }
    do {
        if (len == cap) {
            cap = cap ? cap * 2 : 4096;
            data = realloc(data, cap);
            if (data == NULL)
                abort();
        }
        k = fread(data + len, 1, cap - len, f);
        len += k;
    } while (k > 0);
    fclose(f);
    LLVMFuzzerTestOneInput(data, len);
    free(data);
    return 0;
}

int main(int argc, char **argv)
{
    int i, runs = 0, bad = 0;

    for (i = 1; i < argc; i++) {
        struct stat st;

        if (stat(argv[i], &st) == 0 && S_ISDIR(st.st_mode)) {
            DIR *d = opendir(argv[i]);
            struct dirent *e;
            char path[4096];

            while (d && (e = readdir(d))) {
                if (e->d_name[0] == '.')
                    continue;
                snprintf(path, sizeof(path), "%s/%s", argv[i], e->d_name);
                bad += run_file(path);
                runs++;
            }
            if (d)
                closedir(d);
        } else {
            bad += run_file(argv[i]);
            runs++;
        }
    }
    printf("replayed %d inputs\n", runs);
    return bad ? 1 : 0;
}
