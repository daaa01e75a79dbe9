/* cli_json_check.c - JSON helper for test_cli.sh, built on cJSON.
 *
 *   cli_json_check get FILE PATH     prints the value at a dotted path
 *                                    (threads.1.io_to_gil_ns.p50); exit 1 if
 *                                    absent
 *   cli_json_check trace FILE        checks a Chrome trace's required fields
 *                                    and prints "X=<n> i=<n> threads=<n>
 *                                    processes=<n>"; exit 1 on a bad event */
#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static char *slurp(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *buf = malloc((size_t)n + 1);
    if (buf && fread(buf, 1, (size_t)n, f) != (size_t)n) {
        free(buf);
        buf = NULL;
    }
    if (buf)
        buf[n] = '\0';
    fclose(f);
    return buf;
}

static int bad(const char *what, const cJSON *ev)
{
    char *s = cJSON_PrintUnformatted(ev);
    fprintf(stderr, "bad event (%s): %s\n", what, s ? s : "?");
    free(s);
    return 1;
}

static int check_trace(const cJSON *root)
{
    const cJSON *evs = cJSON_GetObjectItem(root, "traceEvents");
    if (!cJSON_IsArray(evs))
        return bad("no traceEvents array", root);
    long nx = 0, ni = 0, nthreads = 0, nprocs = 0, nc = 0, nflow = 0, nflows = 0;
    const cJSON *ev;
    cJSON_ArrayForEach(ev, evs)
    {
        const cJSON *ph = cJSON_GetObjectItem(ev, "ph");
        if (!cJSON_IsString(ph) || !cJSON_IsString(cJSON_GetObjectItem(ev, "name")) ||
            !cJSON_IsNumber(cJSON_GetObjectItem(ev, "pid")) ||
            !cJSON_IsNumber(cJSON_GetObjectItem(ev, "tid")))
            return bad("ph, name, pid, tid", ev);
        if (strcmp(ph->valuestring, "X") == 0) {
            const cJSON *args = cJSON_GetObjectItem(ev, "args");
            if (!cJSON_IsNumber(cJSON_GetObjectItem(ev, "ts")) ||
                !cJSON_IsNumber(cJSON_GetObjectItem(ev, "dur")) ||
                cJSON_GetObjectItem(ev, "dur")->valuedouble < 0 ||
                !cJSON_IsString(cJSON_GetObjectItem(ev, "cname")) ||
                !cJSON_IsString(cJSON_GetObjectItem(args, "state")))
                return bad("X needs ts, dur >= 0, cname, args.state", ev);
            nx++;
        } else if (strcmp(ph->valuestring, "i") == 0) {
            if (!cJSON_IsNumber(cJSON_GetObjectItem(ev, "ts")) ||
                !cJSON_IsString(cJSON_GetObjectItem(ev, "s")))
                return bad("i needs ts and s", ev);
            ni++;
        } else if (strcmp(ph->valuestring, "M") == 0) {
            const char *n = cJSON_GetObjectItem(ev, "name")->valuestring;
            const cJSON *args = cJSON_GetObjectItem(ev, "args");
            if (strcmp(n, "thread_name") == 0 || strcmp(n, "process_name") == 0) {
                if (!cJSON_IsString(cJSON_GetObjectItem(args, "name")))
                    return bad("metadata needs args.name", ev);
                nthreads += n[0] == 't';
                nprocs += n[0] == 'p';
            }
        } else if (strcmp(ph->valuestring, "C") == 0) {
            const cJSON *args = cJSON_GetObjectItem(ev, "args");
            if (!cJSON_IsNumber(cJSON_GetObjectItem(ev, "ts")) || !cJSON_IsObject(args) ||
                !cJSON_IsNumber(args->child))
                return bad("C needs ts and a number in args", ev);
            nc++;
        } else if (strcmp(ph->valuestring, "s") == 0 || strcmp(ph->valuestring, "f") == 0) {
            if (!cJSON_IsNumber(cJSON_GetObjectItem(ev, "ts")) ||
                !cJSON_IsNumber(cJSON_GetObjectItem(ev, "id")))
                return bad("flow events need ts and id", ev);
            nflow += ph->valuestring[0] == 's' ? 1 : -1; /* every start has its finish */
            nflows += ph->valuestring[0] == 's';
        } else
            return bad("unknown ph", ev);
    }
    if (nflow != 0)
        return bad("flow starts and finishes do not pair", root);
    printf("X=%ld i=%ld threads=%ld processes=%ld counters=%ld flows=%ld\n", nx, ni, nthreads,
           nprocs, nc, nflows);
    return 0;
}

int main(int argc, char **argv)
{
    if (argc < 3) {
        fputs("usage: cli_json_check get FILE PATH | trace FILE\n", stderr);
        return 2;
    }
    char *txt = slurp(argv[2]);
    if (!txt) {
        fprintf(stderr, "cannot read %s\n", argv[2]);
        return 2;
    }
    cJSON *root = cJSON_Parse(txt);
    free(txt);
    if (!root) {
        fprintf(stderr, "%s: not JSON\n", argv[2]);
        return 1;
    }
    int rc = 0;
    if (strcmp(argv[1], "trace") == 0)
        rc = check_trace(root);
    else if (strcmp(argv[1], "get") == 0 && argc == 4) {
        char *path = strdup(argv[3]);
        const cJSON *cur = root;
        for (char *tok = strtok(path, "."); tok && cur; tok = strtok(NULL, "."))
            cur = cJSON_IsArray(cur) ? cJSON_GetArrayItem(cur, atoi(tok))
                                     : cJSON_GetObjectItemCaseSensitive(cur, tok);
        free(path);
        if (!cur)
            rc = 1;
        else if (cJSON_IsString(cur))
            printf("%s\n", cur->valuestring);
        else if (cJSON_IsNumber(cur))
            printf("%.17g\n", cur->valuedouble);
        else if (cJSON_IsNull(cur))
            printf("null\n");
        else {
            char *s = cJSON_PrintUnformatted(cur);
            printf("%s\n", s);
            free(s);
        }
    } else
        rc = 2;
    cJSON_Delete(root);
    return rc;
}
