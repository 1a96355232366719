/*
 * driver.c — runs a fuzz target once over every file of its corpus, without libFuzzer,
 * so `make test` replays what the fuzzers found (built with the normal CC and
 * ASan+UBSan, like the unit tests).
 *
 *     build/fuzz-reg/fuzz_NAME [DIR|FILE]...
 *
 * Without arguments it reads tests/fuzz/corpus/NAME/ (NAME from the program's own name,
 * run from the repository root as tests/run.sh does). Each file is named on stderr
 * before it runs, so a crash in the log says which input did it. The last line is
 * "SUMMARY <inputs run> 0"; a crash ends the program first (no summary: a failure).
 */
#include "tests/fuzz/fuzz.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

__attribute__((weak)) int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    return 0;
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static size_t run_file(const char *path)
{
    size_t len;
    FILE *f = fopen(path, "rb");
    if (!f) {
        fprintf(stderr, "cannot open %s\n", path);
        exit(1);
    }
    fseek(f, 0, SEEK_END);
    long sz = ftell(f);
    fseek(f, 0, SEEK_SET);
    if (sz < 0) {
        fprintf(stderr, "cannot size %s\n", path);
        exit(1);
    }
    uint8_t *buf = malloc((size_t)sz ? (size_t)sz : 1);
    if (!buf)
        abort();
    len = fread(buf, 1, (size_t)sz, f);
    fclose(f);
    fprintf(stderr, "running %s (%zu bytes)\n", path, len);
    LLVMFuzzerTestOneInput(buf, len);
    free(buf);
    return 1;
}

static size_t run_dir(const char *dir)
{
    DIR *d = opendir(dir);
    char **names = NULL;
    size_t n = 0, cap = 0, done = 0;
    struct dirent *e;

    if (!d) {
        fprintf(stderr, "cannot open corpus %s\n", dir);
        exit(1);
    }
    while ((e = readdir(d)) != NULL) {
        if (e->d_name[0] == '.')
            continue;
        if (n == cap) {
            cap = cap ? 2 * cap : 256;
            names = realloc(names, cap * sizeof *names);
            if (!names)
                abort();
        }
        names[n] = malloc(strlen(dir) + strlen(e->d_name) + 2);
        if (!names[n])
            abort();
        sprintf(names[n], "%s/%s", dir, e->d_name);
        n++;
    }
    closedir(d);
    if (n)
        qsort(names, n, sizeof *names, cmp_str);
    for (size_t i = 0; i < n; i++) {
        done += run_file(names[i]);
        free(names[i]);
    }
    free(names);
    return done;
}

static size_t run_path(const char *path)
{
    struct stat st;
    if (stat(path, &st) != 0) {
        fprintf(stderr, "cannot stat %s\n", path);
        exit(1);
    }
    return S_ISDIR(st.st_mode) ? run_dir(path) : run_file(path);
}

int main(int argc, char **argv)
{
    size_t done = 0;
    LLVMFuzzerInitialize(&argc, &argv);
    if (argc > 1) {
        for (int i = 1; i < argc; i++)
            done += run_path(argv[i]);
    } else {
        const char *name = strrchr(argv[0], '/');
        name = name ? name + 1 : argv[0];
        if (strncmp(name, "fuzz_", 5) != 0) {
            fprintf(stderr, "usage: fuzz_NAME [DIR|FILE]...\n");
            return 2;
        }
        char dir[512], path[600];
        snprintf(dir, sizeof dir, "tests/fuzz/corpus/%s", name + 5);
        done = run_path(fuzz_src_path(dir, path, sizeof path));
    }
    printf("ran %zu inputs without a crash\n", done);
    printf("SUMMARY %zu 0\n", done);
    return 0;
}
