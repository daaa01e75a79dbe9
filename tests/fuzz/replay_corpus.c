/* replay_corpus.c - feeds every file under the given directories (recursing)
 * to the loader, the way fuzz_scenario.c does, in the normal build: a crash
 * found by the fuzzer and saved in tests/fuzz/corpus/ stays a test. Exit 0
 * when every input either loaded or failed with a proper diagnostic. */
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "gilsim/scenario.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int n_files, n_bad;

static void replay_file(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        fprintf(stderr, "%s: cannot open\n", path);
        n_bad++;
        return;
    }
    size_t cap = 1 << 16, len = 0, r;
    uint8_t *buf = malloc(cap);
    while (buf && (r = fread(buf + len, 1, cap - len, f)) > 0) {
        len += r;
        if (len == cap) {
            uint8_t *nb = realloc(buf, cap *= 2);
            if (!nb)
                break;
            buf = nb;
        }
    }
    fclose(f);
    /* an exact-size copy so ASan sees any read past the end */
    uint8_t *exact = malloc(len ? len : 1);
    if (buf && exact) {
        memcpy(exact, buf, len);
        LLVMFuzzerTestOneInput(exact, len);
        n_files++;
    }
    free(exact);
    free(buf);
}

static void replay(const char *path)
{
    struct stat st;
    if (stat(path, &st) != 0)
        return;
    if (!S_ISDIR(st.st_mode)) {
        replay_file(path);
        return;
    }
    DIR *d = opendir(path);
    if (!d)
        return;
    struct dirent *de;
    while ((de = readdir(d))) {
        if (de->d_name[0] == '.')
            continue;
        char sub[4096];
        snprintf(sub, sizeof sub, "%s/%s", path, de->d_name);
        replay(sub);
    }
    closedir(d);
}

int main(int argc, char **argv)
{
    for (int i = 1; i < argc; i++)
        replay(argv[i]);
    printf("replayed %d inputs\n", n_files);
    if (n_files == 0) {
        fprintf(stderr, "no inputs found\n");
        return 1;
    }
    return n_bad ? 1 : 0;
}
