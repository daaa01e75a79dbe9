/* probe.c - the _gilsim_probe extension module, compiled by `gilsim record`
 * against the recorded interpreter's own headers (internal ones included,
 * hence Py_BUILD_CORE_MODULE) and loaded by boot.py before the program.
 *
 * It finds the GIL exactly: &_PyRuntime.ceval.gil on 3.8 to 3.11,
 * PyInterpreterState_Get()->ceval.gil on 3.12+, and hands the addresses of
 * its mutex, conditions, `locked` and `switch_number` to the shim. It also
 * installs a C profile function (PyEval_SetProfile) that names the C calls
 * a thread makes and the Python-level blocking APIs it is inside (Queue.get,
 * Event.wait, Thread.join...). The profile function runs while its thread
 * holds the GIL, so the name cache needs no lock. */
#define PY_SSIZE_T_CLEAN
#ifndef Py_BUILD_CORE_MODULE
#define Py_BUILD_CORE_MODULE
#endif
#include <Python.h>
#include <frameobject.h>
#include <dlfcn.h>
#include <stdlib.h>
#include <string.h>

#if PY_VERSION_HEX < 0x03080000
#error "gilsim record supports CPython 3.8 and later"
#endif
#if PY_VERSION_HEX >= 0x030C0000
#include "internal/pycore_interp.h"
#elif PY_VERSION_HEX >= 0x03090000
#include "internal/pycore_runtime.h"
#else
#include "internal/pycore_pystate.h"
#endif

#include "spool.h"

#ifdef Py_TPFLAGS_HAVE_VECTORCALL
#define GS_TPFLAGS_VECTORCALL Py_TPFLAGS_HAVE_VECTORCALL
#else
#define GS_TPFLAGS_VECTORCALL _Py_TPFLAGS_HAVE_VECTORCALL /* 3.8 */
#endif
#if PY_VERSION_HEX < 0x03090000
#define PyObject_Vectorcall _PyObject_Vectorcall
#endif

static const gsr_api_t *api;
static int use_profile; /* --calls all: name every C call (costly before 3.12) */

/* ---- naming C calls ----------------------------------------------------- */

typedef struct slot {
    const void *key; /* a PyMethodDef */
    uint32_t name;
    uint8_t cat;
} slot_t;

#define CACHE 4096 /* power of two */
static slot_t cache[CACHE];
static int cache_n;

static int in_list(const char *s, const char *const *list)
{
    for (; *list; list++)
        if (strcmp(s, *list) == 0)
            return 1;
    return 0;
}

static int starts(const char *s, const char *p)
{
    return strncmp(s, p, strlen(p)) == 0;
}

/* owner is a module name or a type's tp_name; meth the method's name. */
static int classify(const char *owner, const char *meth)
{
    static const char *const sock[] = {"recv", "recv_into", "recvfrom", "recvfrom_into",
                                       "recvmsg", "send", "sendall", "sendto", "sendmsg",
                                       "accept", "_accept", "connect", "connect_ex", NULL};
    static const char *const fileio[] = {"read", "readinto", "readline", "readlines", "readall",
                                         "write", "writelines", "flush", "read1", "readinto1",
                                         NULL};
    static const char *const osio[] = {"read", "write", "readv", "writev", "pread", "pwrite",
                                       "waitpid", "wait", "wait3", "wait4", "system", "fsync",
                                       "sendfile", "open", NULL};
    static const char *const lock[] = {"acquire", "acquire_lock", "__enter__", NULL};
    if (strcmp(owner, "time") == 0 && strcmp(meth, "sleep") == 0)
        return GSR_CAT_SLEEP;
    if (strstr(owner, "socket") && in_list(meth, sock))
        return GSR_CAT_IO;
    if (strcmp(owner, "_socket") == 0 && starts(meth, "get"))
        return GSR_CAT_IO; /* getaddrinfo, gethostbyname */
    if (starts(owner, "select") || starts(owner, "_ssl."))
        return GSR_CAT_IO;
    if (starts(owner, "_io.") && in_list(meth, fileio))
        return GSR_CAT_IO;
    if (strcmp(owner, "posix") == 0 && in_list(meth, osio))
        return GSR_CAT_IO;
    if (strcmp(owner, "_thread.lock") == 0 || strcmp(owner, "_thread.RLock") == 0 ||
        strcmp(owner, "_thread.Semaphore") == 0)
        return in_list(meth, lock) ? GSR_CAT_LOCK : GSR_CAT_C;
    if (strcmp(owner, "_queue.SimpleQueue") == 0 && (starts(meth, "get") || starts(meth, "put")))
        return GSR_CAT_QUEUE;
    if (starts(owner, "_hashlib") || starts(owner, "_sha") || starts(owner, "_md5") ||
        starts(owner, "_blake2") || starts(owner, "zlib") || starts(owner, "_bz2") ||
        starts(owner, "_lzma"))
        return GSR_CAT_NOGIL;
    return GSR_CAT_C;
}

static slot_t *lookup(const void *key, PyObject *self, PyTypeObject *type, const char *meth)
{
    size_t h = ((uintptr_t)key >> 4) * 2654435761u;
    for (size_t i = 0; i < CACHE; i++) {
        slot_t *s = &cache[(h + i) & (CACHE - 1)];
        if (s->key == key)
            return s;
        if (s->key)
            continue;
        if (cache_n >= CACHE / 2)
            return NULL; /* full enough: leave the rest unnamed */
        const char *owner = "";
        if (type)
            owner = type->tp_name;
        else if (self && PyModule_Check(self))
            owner = PyModule_GetName(self);
        else if (self)
            owner = Py_TYPE(self)->tp_name;
        if (!owner) {
            PyErr_Clear();
            owner = "";
        }
        char buf[256];
        int n = snprintf(buf, sizeof buf, "%s%s%s", owner, *owner ? "." : "", meth);
        s->key = key;
        s->cat = (uint8_t)classify(owner, meth);
        s->name = api->intern(buf, n < 0 ? 0 : (size_t)n < sizeof buf ? (size_t)n : sizeof buf - 1);
        cache_n++;
        return s;
    }
    return NULL;
}

static void c_call(PyObject *fn)
{
    slot_t *s = NULL;
    const void *obj = NULL; /* a bound method's self (not a module) */
    if (PyCFunction_Check(fn)) {
        PyCFunctionObject *f = (PyCFunctionObject *)fn;
        s = lookup(f->m_ml, f->m_self, NULL, f->m_ml->ml_name);
        if (f->m_self && !PyModule_Check(f->m_self))
            obj = f->m_self;
    } else if (Py_TYPE(fn) == &PyMethodDescr_Type) {
        PyMethodDescrObject *d = (PyMethodDescrObject *)fn;
        s = lookup(d->d_method, NULL, PyDescr_TYPE(d), d->d_method->ml_name);
    }
    api->call_begin(s ? s->name : 0, s ? s->cat : GSR_CAT_C, obj);
}

/* ---- Python-level blocking APIs ----------------------------------------- */

typedef struct ctx {
    PyObject *code; /* strong reference */
    uint32_t name;
    int cat;
} ctx_t;

#define MAX_CTX 16
static ctx_t ctxs[MAX_CTX];
static int n_ctx;

static PyObject *frame_code(PyFrameObject *f)
{
#if PY_VERSION_HEX >= 0x03090000
    PyCodeObject *c = PyFrame_GetCode(f);
    Py_DECREF(c); /* the frame keeps it alive */
    return (PyObject *)c;
#else
    return (PyObject *)f->f_code;
#endif
}

static int find_ctx(PyFrameObject *f)
{
    PyObject *c = frame_code(f);
    for (int i = 0; i < n_ctx; i++)
        if (ctxs[i].code == c)
            return i;
    return -1;
}

static int profile(PyObject *obj, PyFrameObject *frame, int what, PyObject *arg)
{
    (void)obj;
    int i;
    switch (what) {
    case PyTrace_CALL:
        api->py_enter();
        if (n_ctx && (i = find_ctx(frame)) >= 0)
            api->ctx_begin(ctxs[i].name, ctxs[i].cat, NULL);
        break;
    case PyTrace_RETURN:
        if (n_ctx && find_ctx(frame) >= 0)
            api->ctx_end();
        api->py_exit();
        break;
    case PyTrace_C_CALL:
        c_call(arg);
        break;
    case PyTrace_C_RETURN:
    case PyTrace_C_EXCEPTION:
        api->call_end();
        break;
    default:
        break;
    }
    return 0;
}

/* ---- wrappers: naming chosen callables without a profile function ------- */

/* A callable that reports its calls to the shim and forwards them: what
 * boot.py puts in place of time.sleep, socket methods, select, hashlib...
 * when every call is not profiled. It binds like a function when it is a
 * class attribute, so wrapped methods keep working. */
typedef struct wrap {
    PyObject_HEAD
    PyObject *fn;
    uint32_t name;
    int cat;
    int ctx; /* a Python-level blocking API: reported as a wait, not a call */
    int method; /* a class attribute: the first argument is the bound self,
                   reported as the call's object */
    vectorcallfunc vectorcall;
} wrap_t;

static PyObject *wrap_vectorcall(PyObject *self, PyObject *const *args, size_t nargsf,
                                 PyObject *kwnames)
{
    wrap_t *w = (wrap_t *)self;
    const void *obj = w->method && PyVectorcall_NARGS(nargsf) >= 1 ? (const void *)args[0] : NULL;
    if (w->ctx)
        api->ctx_begin(w->name, w->cat, obj);
    else
        api->call_begin(w->name, w->cat, obj);
    PyObject *r = PyObject_Vectorcall(w->fn, args, nargsf, kwnames);
    if (w->ctx)
        api->ctx_end();
    else
        api->call_end();
    return r;
}

static PyObject *wrap_descr_get(PyObject *self, PyObject *obj, PyObject *type)
{
    (void)type;
    if (!obj) {
        Py_INCREF(self);
        return self;
    }
    return PyMethod_New(self, obj);
}

static void wrap_dealloc(PyObject *self)
{
    Py_XDECREF(((wrap_t *)self)->fn);
    Py_TYPE(self)->tp_free(self);
}

static PyObject *wrap_getattr(PyObject *self, PyObject *name)
{
    PyObject *r = PyObject_GenericGetAttr(self, name);
    if (r || !PyErr_ExceptionMatches(PyExc_AttributeError))
        return r;
    PyErr_Clear(); /* __name__, __doc__...: the wrapped callable's */
    return PyObject_GetAttr(((wrap_t *)self)->fn, name);
}

static PyObject *wrap_repr(PyObject *self)
{
    return PyObject_Repr(((wrap_t *)self)->fn); /* the program sees its callable */
}

static PyTypeObject wrap_type = {
    PyVarObject_HEAD_INIT(NULL, 0).tp_name = "_gilsim_probe.wrapped",
    .tp_basicsize = sizeof(wrap_t),
    .tp_dealloc = wrap_dealloc,
    .tp_vectorcall_offset = offsetof(wrap_t, vectorcall),
    .tp_call = PyVectorcall_Call,
    .tp_getattro = wrap_getattr,
    .tp_repr = wrap_repr,
    .tp_descr_get = wrap_descr_get,
    .tp_flags = Py_TPFLAGS_DEFAULT | GS_TPFLAGS_VECTORCALL | Py_TPFLAGS_METHOD_DESCRIPTOR,
};

static PyObject *probe_profiling(PyObject *self, PyObject *unused)
{
    (void)self;
    (void)unused;
    const char *pr = getenv("GILSIM_REC_PROFILE");
    return PyBool_FromLong(pr && strcmp(pr, "1") == 0);
}

/* A wrapper of fn reported under name (the callable itself, unwrapped, when
 * no shim is loaded: nothing to report to). */
static PyObject *new_wrap(PyObject *fn, const char *name, int cat, int ctx, int method,
                          vectorcallfunc call)
{
    if (!api) {
        Py_INCREF(fn);
        return fn;
    }
    wrap_t *w = PyObject_New(wrap_t, &wrap_type);
    if (!w)
        return NULL;
    Py_INCREF(fn);
    w->fn = fn;
    w->name = api->intern(name, strlen(name));
    w->cat = cat;
    w->ctx = ctx;
    w->method = method;
    w->vectorcall = call;
    return (PyObject *)w;
}

/* wrap(callable, name, category, is_wait, is_method=False) */
static PyObject *probe_wrap(PyObject *self, PyObject *args)
{
    (void)self;
    PyObject *fn;
    const char *name;
    int cat, ctx, method = 0;
    if (!PyArg_ParseTuple(args, "Osip|p", &fn, &name, &cat, &ctx, &method))
        return NULL;
    return new_wrap(fn, name, cat, ctx, method, wrap_vectorcall);
}

/* ---- Event.is_set: the poll of `while not ev.is_set()` ------------------ */

/* A loop that polls an Event until another thread sets it runs as long as
 * that thread takes (sim/fit/until.c fits it as an until loop). What shows
 * it is the first poll that returned True, in the thread and for the event,
 * with the count of the polls that returned False before it (the loop's
 * turns, whose Python between two polls the fit needs): recorded as a call
 * of no length with the event as its obj (api->poll). The other polls only
 * count: a loop's turn pays the wrapper's call, a look-up in a table of a
 * few entries and an increment. Per thread (the GIL is held here, but each
 * thread has its own first True), the last POLL_SEEN events it polled; an
 * address reused by a new Event in the same thread is not reported again. */
#define POLL_SEEN 32
typedef struct poll_seen {
    const void *obj;
    uint32_t n_false;
    int reported;
} poll_seen_t;
static _Thread_local poll_seen_t poll_seen[POLL_SEEN];
static _Thread_local unsigned poll_n;

static poll_seen_t *poll_entry(const void *obj)
{
    unsigned n = poll_n < POLL_SEEN ? poll_n : POLL_SEEN;
    for (unsigned k = 0; k < n; k++)
        if (poll_seen[k].obj == obj)
            return &poll_seen[k];
    poll_seen_t *p = &poll_seen[poll_n++ % POLL_SEEN];
    *p = (poll_seen_t){obj, 0, 0};
    return p;
}

static PyObject *poll_vectorcall(PyObject *self, PyObject *const *args, size_t nargsf,
                                 PyObject *kwnames)
{
    wrap_t *w = (wrap_t *)self;
    PyObject *r = PyObject_Vectorcall(w->fn, args, nargsf, kwnames);
    if ((r != Py_True && r != Py_False) || PyVectorcall_NARGS(nargsf) < 1)
        return r;
    poll_seen_t *p = poll_entry(args[0]);
    if (p->reported)
        return r;
    if (r == Py_False) {
        if (p->n_false < UINT32_MAX)
            p->n_false++;
        return r;
    }
    p->reported = 1;
    api->poll(w->name, w->cat, p->obj, p->n_false);
    return r;
}

/* wrap_poll(method, name, category): Event.is_set, reported only on its
 * thread's first True for each event. */
static PyObject *probe_wrap_poll(PyObject *self, PyObject *args)
{
    (void)self;
    PyObject *fn;
    const char *name;
    int cat;
    if (!PyArg_ParseTuple(args, "Osi", &fn, &name, &cat))
        return NULL;
    return new_wrap(fn, name, cat, 0, 1, poll_vectorcall);
}

/* ---- module functions --------------------------------------------------- */

static void name_thread(PyObject *name)
{
    Py_ssize_t n = 0;
    const char *s = name && PyUnicode_Check(name) ? PyUnicode_AsUTF8AndSize(name, &n) : NULL;
    if (!s) {
        PyErr_Clear();
        return;
    }
    api->thread_name(api->intern(s, (size_t)n));
}

/* install(contexts): contexts is a list of (code, name, category). Called
 * once, from the main thread, before the program runs. */
static PyObject *probe_install(PyObject *self, PyObject *args)
{
    (void)self;
    PyObject *list, *main_name;
    if (!PyArg_ParseTuple(args, "O!O", &PyList_Type, &list, &main_name))
        return NULL;
    api = dlsym(RTLD_DEFAULT, "gsr_api");
    if (!api || api->version != GSR_API_VERSION) {
        PyErr_SetString(PyExc_RuntimeError,
                        "the gilsim shim is not loaded (run the program with gilsim record)");
        return NULL;
    }
#if PY_VERSION_HEX >= 0x030C0000
    struct _gil_runtime_state *gil = PyInterpreterState_Get()->ceval.gil;
#else
    struct _gil_runtime_state *gil = &_PyRuntime.ceval.gil;
#endif
    for (Py_ssize_t k = 0; k < PyList_GET_SIZE(list) && n_ctx < MAX_CTX; k++) {
        PyObject *code;
        const char *name;
        int cat;
        if (!PyArg_ParseTuple(PyList_GET_ITEM(list, k), "Osi", &code, &name, &cat))
            return NULL;
        Py_INCREF(code);
        ctxs[n_ctx].code = code;
        ctxs[n_ctx].name = api->intern(name, strlen(name));
        ctxs[n_ctx].cat = cat;
        n_ctx++;
    }
    gsr_gil_t g = {
        .mutex = &gil->mutex,
        .cond = &gil->cond,
        .switch_mutex = &gil->switch_mutex,
        .switch_cond = &gil->switch_cond,
        .locked = (const volatile int *)&gil->locked,
        .switch_number = &gil->switch_number,
        .interval_ns = (int64_t)gil->interval * 1000,
        .py_version = Py_GetVersion(),
    };
    if (api->register_gil(&g) != 0)
        Py_RETURN_FALSE;
    name_thread(main_name);
    const char *pr = getenv("GILSIM_REC_PROFILE");
    use_profile = pr && strcmp(pr, "1") == 0;
    if (use_profile)
        PyEval_SetProfile(profile, NULL);
    Py_RETURN_TRUE;
}

/* thread_start(name): the first profile event of a thread started through
 * threading; replaces the Python-level hook with the C one. */
static PyObject *probe_thread_start(PyObject *self, PyObject *name)
{
    (void)self;
    if (!api)
        Py_RETURN_NONE;
    name_thread(name);
    if (use_profile)
        PyEval_SetProfile(profile, NULL);
    else
        PyEval_SetProfile(NULL, NULL); /* remove threading's Python-level hook */
    Py_RETURN_NONE;
}

static PyMethodDef methods[] = {
    {"install", probe_install, METH_VARARGS, "install(contexts, main_name)"},
    {"thread_start", probe_thread_start, METH_O, "thread_start(name)"},
    {"wrap", probe_wrap, METH_VARARGS, "wrap(callable, name, category, is_wait, is_method=False)"},
    {"wrap_poll", probe_wrap_poll, METH_VARARGS, "wrap_poll(method, name, category)"},
    {"profiling", probe_profiling, METH_NOARGS, "True with --calls all"},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {PyModuleDef_HEAD_INIT, "_gilsim_probe", NULL, -1, methods,
                                    NULL, NULL, NULL, NULL};

PyMODINIT_FUNC PyInit__gilsim_probe(void)
{
    if (PyType_Ready(&wrap_type) < 0)
        return NULL;
    return PyModule_Create(&module);
}
