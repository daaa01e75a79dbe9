/* main.c - `gilsim`: dispatch, help and version.
 *
 * Every command's help text lives here so that `gilsim help CMD`, the usage
 * line printed on a usage error and docs/cli.md (which quotes them) agree. */
#include "cli.h"

#include <errno.h>
#include <fcntl.h>
#include <malloc.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

typedef struct command {
    const char *name;
    int (*fn)(int argc, char **argv);
    const char *usage; /* one line, after "usage: " */
    const char *help;  /* the rest of `gilsim help NAME` */
} command_t;

static const command_t commands[] = {
    {"run", cmd_run,
     "gilsim run [FILE] [--set KEY=VALUE]... [--seed N] [--summary OUT.json]\n"
     "                  [--trace OUT.json] [--csv OUT.csv] [--svg OUT.svg] [--quiet]\n"
     "                  [--memory-budget SIZE]",
     "Simulate one scenario and print what happened: a table with a row per\n"
     "thread (CPU time, time holding and waiting for the GIL, waiting for a core,\n"
     "I/O, the delay from the end of an I/O call to holding the GIL again, GIL\n"
     "releases) and the totals, then a text timeline, one line per thread.\n"
     "Without FILE it runs the built-in convoy-effect lesson.\n"
     "\n"
     "  --set KEY=VALUE   change one setting before the run, as a dotted path into\n"
     "                    the scenario: --set python.switch_interval=1ms,\n"
     "                    --set machine.cores=4, --set threads[0].name=main\n"
     "                    (repeatable; checked like the file itself)\n"
     "  --seed N          random seed for this run (default: the scenario's)\n"
     "  --summary F       the metrics as JSON (names in docs/metrics.md)\n"
     "  --trace F         Chrome Trace Event JSON; open it at ui.perfetto.dev\n"
     "                    or chrome://tracing\n"
     "  --csv F           every interval as CSV: lane_kind,lane,process,thread,\n"
     "                    state,start_ns,end_ns,op\n"
     "  --svg F           the timeline as a standalone SVG picture\n"
     "  --quiet           print nothing on success (files are still written)\n"
     "  --memory-budget SIZE  the most the trace may take (e.g. 512M, 4G; default\n"
     "                    GILSIM_MEMORY_BUDGET or 1G): at the bound the run stops\n"
     "                    with the outcome limit and its outputs are still written\n"
     "\n"
     "F may be - for standard output (then the table is not printed). Files are\n"
     "written to a temporary name and renamed together at the end, so they are\n"
     "complete or absent; devices, FIFOs and /dev/fd/N are written in place.\n"
     "Ctrl-C (or SIGTERM) stops the simulation and writes what it did so far.\n"
     "\n"
     "Exit status: 0 every thread finished; 1 invalid scenario or usage;\n"
     "2 the simulation stopped early (deadlock, time, event or memory limit; the outputs\n"
     "are still written and say why); 3 a file could not be read or written;\n"
     "130 interrupted (the outputs say so).\n"
     "\n"
     "Examples:\n"
     "  gilsim run\n"
     "  gilsim run scenarios/03-convoy.json --set python.switch_interval=1ms\n"
     "  gilsim run lesson.json --trace lesson.trace.json --svg lesson.svg --quiet"},
    {"record", cmd_record,
     "gilsim record [-o REC] [--python PY] [--summary F] [--trace F] [--csv F]\n"
     "                     [--svg F] [--calls all|blocking] [--max-mb N]\n"
     "                     [--switch-interval DUR] [--quiet] -- SCRIPT [ARGS...]\n"
     "       gilsim record [OPTIONS] -m MODULE [ARGS...]",
     "Run a real, unmodified Python program and record its GIL: when each thread\n"
     "asked for it, got it and gave it back and why (a blocking call, a C call,\n"
     "a drop request), the drop requests, and what each thread was doing without\n"
     "it (time.sleep, socket and file I/O, Lock.acquire, Event.wait, Queue.get,\n"
     "Thread.join, hashlib and other C code). No root and no debug symbols: a\n"
     "shim is preloaded into the interpreter and a small probe is compiled\n"
     "against its headers (see docs/recording.md). Then prints the same table\n"
     "and timeline as `gilsim run`; `gilsim-view REC` opens the recording.\n"
     "\n"
     "  -o REC          the recording (default: SCRIPT.rec.json, MODULE.rec.json)\n"
     "  --python PY     the interpreter (default: python3 on PATH); CPython 3.8\n"
     "                  or later with the GIL\n"
     "  --summary F, --trace F, --csv F, --svg F\n"
     "                  the same exports as gilsim run, from the recording\n"
     "  --calls MODE    blocking (default): name the known blocking and\n"
     "                  GIL-releasing calls (sleep, sockets, select, files,\n"
     "                  locks, queues, hashlib, zlib...), nearly free; all: name\n"
     "                  every C call with a profile function, e.g. a long\n"
     "                  sorted() holding the GIL, but call-heavy code runs 2-4x\n"
     "                  slower (see docs/recording.md)\n"
     "  --max-mb N      memory for events (default 256); when it runs out the\n"
     "                  recording stops there and says so\n"
     "  --switch-interval DUR\n"
     "                  run the program at this switch interval (1ms, 20ms;\n"
     "                  whole microseconds): sys.setswitchinterval() before the\n"
     "                  program starts, unchanged program; default: the\n"
     "                  interpreter's own (5 ms)\n"
     "  --quiet         print nothing (the program's own output still appears)\n"
     "  --verbose       say what the recorder does (e.g. compiling the probe)\n"
     "\n"
     "Options go before the program; everything after SCRIPT (or -m MODULE) is\n"
     "the program's. Ctrl-C reaches the program; the recording is then kept and\n"
     "marked partial. `gilsim run REC` shows a recording again.\n"
     "\n"
     "Exit status: the program's own (128+N if signal N killed it); 125 the\n"
     "recorder failed, 126 the interpreter cannot be recorded (not CPython,\n"
     "older than 3.8, free-threaded, no headers), 127 no such interpreter.\n"
     "\n"
     "Examples:\n"
     "  gilsim record -- python3 examples/convoy.py   (python3 is the default)\n"
     "  gilsim record -o convoy.rec.json examples/convoy.py\n"
     "  gilsim record --python python3.12 --svg pool.svg -- examples/hash_pool.py 8"},
    {"validate", cmd_validate, "gilsim validate [--quiet] FILE...",
     "Check scenario files without running them. Prints \"FILE: ok\" for each\n"
     "good file; for a bad one, every error with its place (file:line:column for\n"
     "syntax errors, the JSON path such as threads[1].program[0].io otherwise)\n"
     "and what would be valid. --quiet prints nothing for good files.\n"
     "\n"
     "Exit status: 0 all files are valid; 1 at least one is invalid (or usage\n"
     "error); 3 a file could not be read.\n"
     "\n"
     "Example:\n"
     "  gilsim validate scenarios/*.json"},
    {"sweep", cmd_sweep,
     "gilsim sweep FILE --set KEY=V1,V2,... [--set ...] --out RESULTS.csv\n"
     "                  [--repeat N] [--seed N] [--jobs N] [--shard K/N]\n"
     "                  [--plot CHART.svg] [--metric NAME] [--resume]\n"
     "                  [--memory-budget SIZE]",
     "Run every combination of the values given with --set (the cartesian\n"
     "product), in parallel, and write one CSV row per run: run number, the\n"
     "parameters, the seed, the outcome and the summary metrics.\n"
     "\n"
     "  --set KEY=V1,V2   values of one setting (a dotted path as for run);\n"
     "                    commas inside [...], {...} or quotes do not split\n"
     "  --out F           the results (required); rewritten atomically as runs\n"
     "                    finish, and locked against a second sweep\n"
     "  --repeat N        run each combination N times with seeds S, S+1, ...\n"
     "                    where S is --seed or the scenario's seed (default 1)\n"
     "  --jobs N          simulations at once (default: the number of CPUs)\n"
     "  --shard K/N       run only combinations K, K+N, K+2N, ... (0 <= K < N),\n"
     "                    to spread one sweep over N machines or array jobs;\n"
     "                    concatenating the shards' rows sorted by run gives\n"
     "                    the unsharded file (see docs/batch.md)\n"
     "  --plot F          an SVG line chart of --metric against the first\n"
     "                    parameter, one line per value of the second (the\n"
     "                    mean over repeats and other parameters)\n"
     "  --metric NAME     a CSV column to plot (default makespan_ns)\n"
     "  --resume          keep the rows already in --out and run only the\n"
     "                    missing ones (after Ctrl-C, or to extend a sweep)\n"
     "  --memory-budget SIZE  the most each run's trace may take (default\n"
     "                    GILSIM_MEMORY_BUDGET or 1G; --jobs runs at once)\n"
     "\n"
     "Rows are in run order whatever --jobs is. A progress bar with the time\n"
     "left is shown on standard error when it is a terminal. Ctrl-C (or\n"
     "SIGTERM) stops the running simulations at once, keeps the finished rows\n"
     "and prints the command that resumes.\n"
     "\n"
     "Exit status: 0 all runs finished; 1 invalid scenario, values or usage;\n"
     "2 some simulations stopped early (their rows say which); 3 I/O error;\n"
     "130 interrupted (finished rows were kept).\n"
     "\n"
     "Example:\n"
     "  gilsim sweep scenarios/03-convoy.json --set python.switch_interval=1ms,5ms \\\n"
     "      --set machine.cores=1,2 --repeat 3 --out results.csv --plot chart.svg"},
    {"exercise", cmd_exercise,
     "gilsim exercise [--topic TOPIC] [--seed N] [--guess PREDICTION | --answer]",
     "Predict, then reveal. Picks a lesson (--topic convoy, switch-interval,\n"
     "c-calls, cores or locks; without it the seed picks one), varies its settings\n"
     "with the seed, asks for the key figure (an I/O-to-GIL median, a longest\n"
     "wait, a speed-up or a run time) and hides the answer. On a terminal it asks\n"
     "for your prediction; --guess gives it at once; --answer shows the answer\n"
     "without one (for the teacher). The answer comes with the run's figures, the\n"
     "chain of causes at the worst moment and the gilsim-view command that shows\n"
     "it. The same topic and seed always give the same exercise and answer.\n"
     "\n"
     "  --topic TOPIC     convoy, switch-interval, c-calls, cores, locks\n"
     "  --seed N          which variant (default 1)\n"
     "  --guess P         your prediction: 5ms, 1.5x, or a bare number of ms\n"
     "  --answer          reveal without a prediction\n"
     "\n"
     "Exit status: 0 ok; 1 usage; 3 the lessons could not be found.\n"
     "\n"
     "Examples:\n"
     "  gilsim exercise --topic convoy --seed 3\n"
     "  gilsim exercise --topic convoy --seed 3 --guess 5ms"},
    {"fit", cmd_fit,
     "gilsim fit REC [-o SCENARIO.json] [--exact] [--partial] [--raw-cpu]\n"
     "               [--no-load] [--wake-curve] [--send-put-after]\n"
     "               [--send-put-before] [--race-shape DEPTH=CHANCE,...]\n"
     "               [--lock-race] [--ipi-by-cpu] [--sentinels]",
     "Fit a scenario to a recording (gilsim record): one scenario thread per real\n"
     "thread, names kept, whose program is what the recording saw: the Python\n"
     "work between two voluntary GIL releases as one cpu op (whatever forced\n"
     "switches cut it into), time.sleep, I/O and C calls with their measured\n"
     "durations (without the GIL wait after them, which is the model's part),\n"
     "Queue.put/get, Thread.start and Thread.join matched across threads; the\n"
     "host's cores, the recorded switch interval and Python version. Repeated\n"
     "patterns become repeat blocks with duration distributions. The scenario's\n"
     "description names the recording, explains each thread and lists what was\n"
     "approximated. Run it, sweep it, change it with --set: see docs/what-if.md.\n"
     "\n"
     "  -o F, --output F  write the scenario to F (default: standard output)\n"
     "  --exact           keep every op: no repeat blocks\n"
     "  --partial         fit a partial recording (interrupted) as far as it goes\n"
     "                    instead of refusing it\n"
     "  --raw-cpu         keep every measured Python and C duration, time without\n"
     "                    a core included, and fit no other load (by default a\n"
     "                    thread's durations are scaled down to the CPU time the\n"
     "                    kernel gave it: the model adds the wait for a core)\n"
     "  --no-load         fit no other load: the program alone on the machine (by\n"
     "                    default the busy threads other programs kept beside it,\n"
     "                    sized from the kernel's run delays, are a process\n"
     "                    \"other load\"; --set processes=[] removes it later)\n"
     "  --wake-curve      give the machine the recording's wake-up against idle\n"
     "                    depth (calibration.wake_idle_ns) as machine.wakeup_idle\n"
     "                    (by default every wake-up costs the one measured\n"
     "                    wake-up latency)\n"
     "  --send-put-after  wake a socket's reader with a put op after its peer's\n"
     "                    send returns (unless the recorded reader won the GIL\n"
     "                    inside the send); by default the send wakes it itself\n"
     "                    at its end, off the GIL (c_call \"posts\")\n"
     "  --send-put-before wake a socket's reader with a put op just before its\n"
     "                    peer's send, holding the GIL (the former default)\n"
     "  --race-shape S    DEPTH=CHANCE pairs (like 1ms=0.13,5ms=0.44) measured on\n"
     "                    the host (tests/reality's calibration): the chance that\n"
     "                    the GIL's requester is asleep when the holder signals,\n"
     "                    against its CPU's idle time; written as\n"
     "                    machine.requester_first_idle so a what-if at another\n"
     "                    switch interval moves the race (docs/cli.md)\n"
     "  --lock-race       write a Lock used as a mutex as acquire/release ops on a\n"
     "                    declared lock, so the engine decides who takes it after\n"
     "                    each release (by default the recorded order; off: the\n"
     "                    replays lose by it, docs/cli.md)\n"
     "  --ipi-by-cpu      read machine.wake_ipi only off the wakes the recorded\n"
     "                    CPUs show going to another, idle CPU, GIL drops and\n"
     "                    Queue notifies (by default off GIL drops, by timing)\n"
     "  --sentinels       consumers of one queue that ended on their producer's\n"
     "                    last puts loop until they get an end marker (a consume\n"
     "                    op), so the run decides how many items each takes (by\n"
     "                    default each gets its recorded count; off: the replays\n"
     "                    lose by it, docs/cli.md)\n"
     "\n"
     "Exit status: 0 ok; 1 not a recording, a damaged, truncated, partial or\n"
     "newer-format one, a fitted scenario over a scenario's limits (4 MiB: --exact\n"
     "on a long run), or usage; 3 a file could not be read or written.\n"
     "\n"
     "Examples:\n"
     "  gilsim record -o convoy.rec.json -- python3 examples/convoy.py\n"
     "  gilsim fit convoy.rec.json -o convoy.fit.json\n"
     "  gilsim run convoy.fit.json --set python.switch_interval=1ms"},
    {"replay", cmd_replay,
     "gilsim replay REC [--set KEY=VALUE]... [--summary F] [--exact]\n"
     "                  [--partial] [--raw-cpu] [--no-load] [--seed N] [--quiet]\n"
     "                  [--memory-budget SIZE] [--wake-curve] [--send-put-after]\n"
     "                  [--send-put-before] [--lock-race] [--ipi-by-cpu]\n"
     "                  [--sentinels]",
     "Fit a scenario to a recording (as gilsim fit does), simulate it at the\n"
     "recorded settings, and print the real run beside its replay: makespan (how\n"
     "long the run took), GIL utilisation, switches per second, drop requests\n"
     "(a waiter asking the holder to let go), the I/O-to-GIL delay, and\n"
     "per thread the GIL held and waited for, I/O and sleep, and its releases,\n"
     "with the replay's difference from the real run. With --set, the fitted\n"
     "scenario runs once more with those changes: the what-if column, with its\n"
     "difference from the replay. How far to trust a replay: docs/validation.md.\n"
     "\n"
     "  --set KEY=VALUE   a what-if: change a setting of the fitted scenario as\n"
     "                    gilsim run --set does (keys: docs/scenarios.md), e.g.\n"
     "                    python.switch_interval=1ms, python.version=3.13t,\n"
     "                    python.gil=none, machine.cores=8; cpus=0: the program\n"
     "                    under taskset -c 0, the other load on every CPU;\n"
     "                    machine.policy=fifo runs without the fitted other load\n"
     "                    (said under the table); repeatable\n"
     "  --summary F       the summary JSON of each run under \"recording\",\n"
     "                    \"replay\" and \"what_if\" (docs/metrics.md)\n"
     "  --exact           fit every op, no repeat blocks\n"
     "  --partial         replay a partial recording as far as it goes\n"
     "  --raw-cpu         fit the measured durations unscaled (see gilsim help fit)\n"
     "  --no-load         fit no other load (see gilsim help fit)\n"
     "  --wake-curve, --send-put-after, --send-put-before, --lock-race,\n"
     "  --ipi-by-cpu, --sentinels  fit with these opt-in mechanisms, as gilsim\n"
     "                    fit does (see gilsim help fit)\n"
     "  --seed N          random seed of the replay (repeat blocks draw durations)\n"
     "  --quiet           print nothing on success\n"
     "  --memory-budget SIZE  the most each simulated trace may take, as for run\n"
     "\n"
     "Exit status: 0 ok; 1 not a recording, a damaged, truncated, partial or\n"
     "newer-format one, a --set that does not apply, or usage; 2 the replay or\n"
     "the what-if stopped early (the table is still printed); 3 a file could\n"
     "not be read or written; 130 interrupted.\n"
     "\n"
     "Examples:\n"
     "  gilsim record -o convoy.rec.json -- python3 examples/convoy.py\n"
     "  gilsim replay convoy.rec.json --set python.switch_interval=1ms\n"
     "  gilsim replay convoy.rec.json --set python.version=3.13t --summary s.json"},
    {"explain", cmd_explain,
     "gilsim explain [FILE|REC] [--at TIME] [--thread NAME] [--set KEY=VALUE]... [--seed N]\n"
     "                      [--memory-budget SIZE]",
     "Say why a thread is not running. With --at TIME (a duration such as 6ms):\n"
     "the state of every GIL (holder, drop request pending since when and why it\n"
     "is not honoured yet, waiters), the ready queue, each lock's holder and each\n"
     "queue's fill; then for every thread (or the one named by --thread) its chain\n"
     "of causes: what it waits for, who holds that, and what that thread is doing,\n"
     "until one runs. Without --at: where each thread's waiting went over the\n"
     "whole run (GIL held by whom, GIL hand-over, no core, context switches, lock\n"
     "held by whom, I/O, sleep), the same figures as the \"blame\" of the summary\n"
     "JSON; they add up to the time the thread was not running.\n"
     "REC, a recording (gilsim record), answers from what it recorded and says\n"
     "what it does not know (the cores; which lock, event or queue).\n"
     "\n"
     "  --at TIME         the instant; a number with a unit (ns, us, ms, s)\n"
     "  --thread NAME     only this thread's chain or totals\n"
     "  --set KEY=VALUE   change a setting as for run (repeatable)\n"
     "  --seed N          random seed for this run\n"
     "  --memory-budget SIZE  the most the trace may take, as for run\n"
     "\n"
     "Exit status: 0 ok (also when the run stopped early: the chain explains the\n"
     "deadlock); 1 invalid scenario or usage; 3 a file could not be read.\n"
     "\n"
     "Examples:\n"
     "  gilsim explain scenarios/03-convoy.json --at 12ms --thread server\n"
     "  gilsim explain scenarios/03-convoy.json"},
};
#define N_COMMANDS ((int)(sizeof commands / sizeof commands[0]))

static const char *general_help =
    "gilsim - simulate Python threads, the OS scheduler and CPython's GIL\n"
    "\n"
    "usage: gilsim COMMAND [ARGS...]\n"
    "\n"
    "Commands:\n"
    "  run [FILE]        simulate a scenario, print a summary and a timeline,\n"
    "                    and export the trace (Perfetto JSON, CSV, SVG)\n"
    "  validate FILE...  check scenario files and explain every error\n"
    "  sweep FILE        run the combinations of several settings in parallel\n"
    "                    and collect the metrics in a CSV file and a chart\n"
    "  exercise          predict a lesson's key figure, then see the answer and why\n"
    "  explain [FILE]    why a thread is not running at an instant (--at), or\n"
    "                    where each thread's waiting went over the whole run\n"
    "  record SCRIPT     run a real Python program and record its GIL; the\n"
    "                    recording shows like a simulation (gilsim run REC)\n"
    "  fit REC           fit a scenario to a recording: the real program as\n"
    "                    ops that gilsim can replay and vary\n"
    "  replay REC        the real run beside its replay and a what-if (--set)\n"
    "  help [COMMAND]    show this text, or a command's options\n"
    "\n"
    "Options: --help, --version.\n"
    "\n"
    "A scenario is a JSON file describing the machine, the Python runtime and\n"
    "what each thread does (see docs/scenarios.md and scenarios/). Run\n"
    "`gilsim run` with no file to see the convoy effect, then\n"
    "`gilsim help run` for the outputs.\n"
    "\n"
    "Your own program: `gilsim record -o app.rec.json -- python3 app.py`, then\n"
    "`gilsim replay app.rec.json --set python.switch_interval=1ms` prints the\n"
    "real run, the model's replay of it and that what-if side by side\n"
    "(docs/what-if.md); `gilsim-view app.rec.json --replay` shows the three.\n"
    "\n"
    "Exit status: 0 ok, 1 invalid scenario or usage, 2 simulation stopped early\n"
    "(deadlock or limit) or a partial recording shown, 3 I/O error, 130 sweep\n"
    "interrupted.\n";

static const command_t *find(const char *name)
{
    for (int i = 0; i < N_COMMANDS; i++)
        if (strcmp(commands[i].name, name) == 0)
            return &commands[i];
    return NULL;
}

void cli_print_usage(const char *cmd, FILE *out)
{
    const command_t *c = cmd ? find(cmd) : NULL;
    if (c)
        fprintf(out, "usage: %s\n", c->usage);
    else
        fputs("usage: gilsim COMMAND [ARGS...]   (commands: run, validate, sweep, explain, exercise, record, fit, replay, help)\n", out);
}

int cli_help(const char *cmd, FILE *out)
{
    if (!cmd) {
        fputs(general_help, out);
        return 0;
    }
    const command_t *c = find(cmd);
    if (!c) {
        fprintf(stderr, "gilsim help: no command named '%s' (commands: run, validate, sweep, explain, exercise, record, fit, replay)\n",
                cmd);
        return EXIT_USAGE;
    }
    fprintf(out, "usage: %s\n\n%s\n", c->usage, c->help);
    return 0;
}

int cli_usage_error(const char *cmd, const char *fmt, ...)
{
    va_list ap;
    fprintf(stderr, "gilsim%s%s: ", cmd ? " " : "", cmd ? cmd : "");
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    cli_print_usage(cmd, stderr);
    fprintf(stderr, "Try 'gilsim help%s%s' for more.\n", cmd ? " " : "", cmd ? cmd : "");
    return EXIT_USAGE;
}

/* ---- standard output ------------------------------------------------------ */

/* A closed standard output (`gilsim run >&-`): descriptor 1 must not be
 * reused by the next file opened (an output's temporary file would then
 * receive the table), so /dev/null takes it, and stdout becomes a stream
 * whose writes fail with EBADF: the command notices, and main says why. */
static ssize_t closed_write(void *c, const char *buf, size_t n)
{
    (void)c;
    (void)buf;
    (void)n;
    errno = EBADF;
    return -1;
}

static void guard_std_fds(void)
{
    for (int fd = 0; fd <= 2; fd++) {
        if (fcntl(fd, F_GETFD) != -1 || errno != EBADF)
            continue;
        int n = open("/dev/null", fd == 0 ? O_RDONLY : O_WRONLY);
        if (n >= 0 && n != fd) {
            dup2(n, fd);
            close(n);
        }
        if (fd == 1) {
            cookie_io_functions_t io = {NULL, closed_write, NULL, NULL};
            FILE *f = fopencookie(NULL, "w", io);
            if (f)
                stdout = f;
        }
    }
}

/* The command's status, or 3 with a message when standard output could not
 * take what was written to it (closed, a full disk, a closed pipe). */
static int finish_stdout(int rc)
{
    if (fflush(stdout) == 0 && !ferror(stdout))
        return rc;
    int e = errno;
    if (e == EBADF)
        fprintf(stderr, "gilsim: standard output is closed; redirect it (> FILE, or > /dev/null "
                        "to discard it)\n");
    else
        fprintf(stderr, "gilsim: cannot write to standard output: %s\n",
                e ? strerror(e) : "write error");
    return rc == EXIT_OK || rc == EXIT_STOPPED ? EXIT_IO : rc;
}

static int dispatch(int argc, char **argv)
{
    if (argc < 2)
        return cli_usage_error(NULL, "no command given");
    const char *a = argv[1];
    if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0)
        return cli_help(NULL, stdout);
    if (strcmp(a, "--version") == 0 || strcmp(a, "-V") == 0) {
        printf("gilsim %s\n", GS_VERSION);
        return 0;
    }
    if (strcmp(a, "help") == 0) {
        if (argc > 3)
            return cli_usage_error(NULL, "help takes at most one command name");
        return cli_help(argc == 3 ? argv[2] : NULL, stdout);
    }
    const command_t *c = find(a);
    if (!c) {
        if (a[0] == '-')
            return cli_usage_error(NULL, "unknown option '%s'", a);
        return cli_usage_error(NULL, "unknown command '%s'", a);
    }
    /* "gilsim run --help" works too. */
    for (int i = 2; i < argc; i++) {
        if (strcmp(argv[i], "--") == 0)
            break;
        /* record: the program's own arguments start at its first word */
        if (c->fn == cmd_record && argv[i][0] != '-')
            break;
        if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0)
            return cli_help(c->name, stdout);
    }
    return c->fn(argc - 1, argv + 1);
}

/* A sweep frees each run's trace and builds the next of about the same size.
 * By default glibc hands big blocks back to the kernel on free (its mmap
 * and trim thresholds), so every run faulted its trace's pages in again:
 * ~105 page faults per run of the fitted producer_consumer scenario, 10% of
 * the sweep's time. Freed memory is kept for the next run instead (up to
 * 256 MiB of it; blocks under 32 MiB from the heap). */
static void keep_freed_memory(void)
{
#if defined(M_TRIM_THRESHOLD) && defined(M_MMAP_THRESHOLD)
    mallopt(M_TRIM_THRESHOLD, 256 << 20);
    mallopt(M_MMAP_THRESHOLD, 32 << 20);
#endif
}

int main(int argc, char **argv)
{
    guard_std_fds();
    keep_freed_memory();
    return finish_stdout(dispatch(argc, argv));
}
