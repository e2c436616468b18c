/*
 * _native.c — the CPython face of libspikard (include/spikard.h).
 *
 * This module only marshals: Python bytes/str/lists to the ABI's structs and
 * back, and it releases the GIL while a call may block (a poll with a
 * timeout, start, stop). Routing, validation and every error response live
 * in the core; the dispatch loop that calls handlers is Python
 * (spikard/_dispatch.py).
 *
 * Lifetimes: a Poller holds a reference to its App, so the App (and its
 * spikard_app) outlives every poller of it, as spikard_app_free requires.
 * Event data points into the poller's buffer until the next poll; poll()
 * copies everything it returns into new Python objects.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <structmember.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "spikard.h"

/* Responses answered from a stack array up to this count; larger batches
 * allocate. */
#define STACK_RESPONSES 64
#define STACK_HEADERS 256

typedef struct {
    PyTypeObject *app_type;
    PyTypeObject *poller_type;
    PyTypeObject *supervisor_type;
    PyObject *error;  /* spikard._native.SpikardError */
    PyObject *closed; /* spikard._native.Closed */
} module_state;

static module_state *state_of_type(PyTypeObject *tp) {
    return (module_state *)PyType_GetModuleState(tp);
}

/* ------------------------------------------------------------------------
 * App
 * ---------------------------------------------------------------------- */

typedef struct {
    PyObject_HEAD
    spikard_app *app;
} AppObject;

static PyObject *raise_app_error(PyObject *self, int rc, const char *what) {
    module_state *st = state_of_type(Py_TYPE(self));
    PyObject *exc_type = st->error;
    PyObject *msg;
    if (rc == SPIKARD_E_CLOSED) {
        exc_type = st->closed;
        msg = PyUnicode_FromString("the app has stopped");
    } else {
        const char *m = spikard_last_error(); /* per thread: ours */
        if (m == NULL || *m == '\0') {
            m = what;
        }
        msg = PyUnicode_DecodeUTF8(m, (Py_ssize_t)strlen(m), "replace");
    }
    if (msg == NULL) {
        return NULL;
    }
    PyObject *args = Py_BuildValue("(iN)", rc, msg);
    if (args != NULL) {
        PyErr_SetObject(exc_type, args);
        Py_DECREF(args);
    }
    return NULL;
}

static int App_init(PyObject *self, PyObject *args, PyObject *kwds) {
    static char *kwlist[] = {"config_json", NULL};
    AppObject *a = (AppObject *)self;
    Py_buffer cfg;
    if (!PyArg_ParseTupleAndKeywords(args, kwds, "y*:App", kwlist, &cfg)) {
        return -1;
    }
    if (a->app != NULL) {
        PyBuffer_Release(&cfg);
        PyErr_SetString(PyExc_RuntimeError, "App already initialised");
        return -1;
    }
    int rc = spikard_app_new(&a->app, (const char *)cfg.buf, (size_t)cfg.len);
    PyBuffer_Release(&cfg);
    if (rc != SPIKARD_OK) {
        module_state *st = state_of_type(Py_TYPE(self));
        const char *msg = spikard_last_error();
        if (msg == NULL || *msg == '\0') {
            msg = "spikard_app_new failed";
        }
        PyObject *eargs = Py_BuildValue(
            "(iN)", rc, PyUnicode_DecodeUTF8(msg, (Py_ssize_t)strlen(msg), "replace"));
        if (eargs != NULL) {
            PyErr_SetObject(st->error, eargs);
            Py_DECREF(eargs);
        }
        a->app = NULL;
        return -1;
    }
    return 0;
}

static void App_dealloc(PyObject *self) {
    AppObject *a = (AppObject *)self;
    PyTypeObject *tp = Py_TYPE(self);
    if (a->app != NULL) {
        spikard_app *app = a->app;
        a->app = NULL;
        Py_BEGIN_ALLOW_THREADS
        spikard_app_free(app);
        Py_END_ALLOW_THREADS
    }
    tp->tp_free(self);
    Py_DECREF(tp);
}

static int app_ready(AppObject *a) {
    if (a->app == NULL) {
        PyErr_SetString(PyExc_RuntimeError, "App is not initialised");
        return 0;
    }
    return 1;
}

static PyObject *App_add_route(PyObject *self, PyObject *arg) {
    AppObject *a = (AppObject *)self;
    if (!app_ready(a)) {
        return NULL;
    }
    Py_buffer doc;
    if (PyObject_GetBuffer(arg, &doc, PyBUF_SIMPLE) < 0) {
        return NULL;
    }
    uint32_t route = 0;
    int rc = spikard_app_add_route(&route, a->app, (const char *)doc.buf, (size_t)doc.len);
    PyBuffer_Release(&doc);
    if (rc != SPIKARD_OK) {
        return raise_app_error(self, rc, "spikard_app_add_route failed");
    }
    return PyLong_FromUnsignedLong(route);
}

static PyObject *App_start(PyObject *self, PyObject *Py_UNUSED(ignored)) {
    AppObject *a = (AppObject *)self;
    if (!app_ready(a)) {
        return NULL;
    }
    int rc;
    Py_BEGIN_ALLOW_THREADS
    rc = spikard_app_start(a->app);
    Py_END_ALLOW_THREADS
    if (rc != SPIKARD_OK) {
        return raise_app_error(self, rc, "spikard_app_start failed");
    }
    Py_RETURN_NONE;
}

static PyObject *App_stop(PyObject *self, PyObject *args) {
    AppObject *a = (AppObject *)self;
    int timeout_ms = -1;
    if (!PyArg_ParseTuple(args, "|i:stop", &timeout_ms)) {
        return NULL;
    }
    if (!app_ready(a)) {
        return NULL;
    }
    int rc;
    Py_BEGIN_ALLOW_THREADS
    rc = spikard_app_stop(a->app, timeout_ms);
    Py_END_ALLOW_THREADS
    if (rc != SPIKARD_OK) {
        return raise_app_error(self, rc, "spikard_app_stop failed");
    }
    Py_RETURN_NONE;
}

static PyObject *App_get_port(PyObject *self, void *Py_UNUSED(closure)) {
    AppObject *a = (AppObject *)self;
    if (!app_ready(a)) {
        return NULL;
    }
    int port = 0;
    int rc = spikard_app_port(&port, a->app);
    if (rc != SPIKARD_OK) {
        return raise_app_error(self, rc, "the app has not started");
    }
    return PyLong_FromLong(port);
}

/* A bytes or str object as a spikard_str; str is encoded as UTF-8 (cached
 * on the object, so the pointer lives as long as the object). */
static int as_str(PyObject *o, spikard_str *out) {
    if (PyBytes_Check(o)) {
        out->ptr = PyBytes_AS_STRING(o);
        out->len = (size_t)PyBytes_GET_SIZE(o);
        return 0;
    }
    if (PyUnicode_Check(o)) {
        Py_ssize_t n;
        const char *p = PyUnicode_AsUTF8AndSize(o, &n);
        if (p == NULL) {
            return -1;
        }
        out->ptr = p;
        out->len = (size_t)n;
        return 0;
    }
    PyErr_Format(PyExc_TypeError, "expected bytes or str, got %.100s", Py_TYPE(o)->tp_name);
    return -1;
}

/* respond(batch): batch is a list of (exchange, status, headers, body,
 * flags). The GIL stays held: the call only copies, and holding it keeps
 * every buffer referenced by batch alive and unchanged. Returns True if all
 * were delivered, False if some exchange was unknown (timed out or gone). */
static PyObject *App_respond(PyObject *self, PyObject *batch) {
    AppObject *a = (AppObject *)self;
    if (!app_ready(a)) {
        return NULL;
    }
    if (!PyList_Check(batch)) {
        PyErr_SetString(PyExc_TypeError, "respond() expects a list of tuples");
        return NULL;
    }
    Py_ssize_t n = PyList_GET_SIZE(batch);
    if (n == 0) {
        Py_RETURN_TRUE;
    }
    spikard_response stack_resp[STACK_RESPONSES];
    spikard_pair stack_hdrs[STACK_HEADERS];
    spikard_response *resp = stack_resp;
    spikard_pair *hdrs = stack_hdrs;
    int stack_results[STACK_RESPONSES];
    int *results = stack_results;
    PyObject *result = NULL;

    /* First pass: validate shapes and count headers. */
    size_t total_headers = 0;
    for (Py_ssize_t i = 0; i < n; i++) {
        PyObject *item = PyList_GET_ITEM(batch, i);
        if (!PyTuple_Check(item) || PyTuple_GET_SIZE(item) != 5) {
            PyErr_SetString(PyExc_TypeError,
                            "respond() items must be (exchange, status, headers, body, flags)");
            return NULL;
        }
        PyObject *h = PyTuple_GET_ITEM(item, 2);
        if (h == Py_None) {
            continue;
        }
        if (!PyList_Check(h)) {
            PyErr_SetString(PyExc_TypeError, "response headers must be a list or None");
            return NULL;
        }
        total_headers += (size_t)PyList_GET_SIZE(h);
    }
    if ((size_t)n > STACK_RESPONSES) {
        resp = PyMem_Malloc(sizeof(spikard_response) * (size_t)n);
        results = PyMem_Malloc(sizeof(int) * (size_t)n);
        if (resp == NULL || results == NULL) {
            PyErr_NoMemory();
            goto done;
        }
    }
    if (total_headers > STACK_HEADERS) {
        hdrs = PyMem_Malloc(sizeof(spikard_pair) * total_headers);
        if (hdrs == NULL) {
            PyErr_NoMemory();
            goto done;
        }
    }

    size_t hpos = 0;
    for (Py_ssize_t i = 0; i < n; i++) {
        PyObject *item = PyList_GET_ITEM(batch, i);
        spikard_response *r = &resp[i];
        unsigned long long exchange = PyLong_AsUnsignedLongLong(PyTuple_GET_ITEM(item, 0));
        if (exchange == (unsigned long long)-1 && PyErr_Occurred()) {
            goto done;
        }
        long status = PyLong_AsLong(PyTuple_GET_ITEM(item, 1));
        if (status == -1 && PyErr_Occurred()) {
            goto done;
        }
        unsigned long flags = PyLong_AsUnsignedLong(PyTuple_GET_ITEM(item, 4));
        if (flags == (unsigned long)-1 && PyErr_Occurred()) {
            goto done;
        }
        r->exchange = (uint64_t)exchange;
        r->status = (uint32_t)(status < 0 ? 0 : status);
        r->flags = (uint32_t)flags;
        r->headers = NULL;
        r->header_count = 0;
        if (as_str(PyTuple_GET_ITEM(item, 3), &r->body) < 0) {
            goto done;
        }
        PyObject *h = PyTuple_GET_ITEM(item, 2);
        if (h != Py_None) {
            Py_ssize_t hn = PyList_GET_SIZE(h);
            r->headers = hdrs + hpos;
            r->header_count = (size_t)hn;
            for (Py_ssize_t j = 0; j < hn; j++) {
                PyObject *pair = PyList_GET_ITEM(h, j);
                if (!PyTuple_Check(pair) || PyTuple_GET_SIZE(pair) != 2) {
                    PyErr_SetString(PyExc_TypeError, "a response header must be a (name, value) tuple");
                    goto done;
                }
                if (as_str(PyTuple_GET_ITEM(pair, 0), &hdrs[hpos].name) < 0 ||
                    as_str(PyTuple_GET_ITEM(pair, 1), &hdrs[hpos].value) < 0) {
                    goto done;
                }
                hpos++;
            }
        }
    }

    int rc = spikard_respond(results, a->app, resp, (size_t)n, sizeof(spikard_response));
    if (rc == SPIKARD_OK) {
        result = Py_NewRef(Py_True);
    } else {
        /* Gone exchanges are normal (timed out, client left); any other
         * result is this binding's bug, and is raised. */
        int refused = SPIKARD_OK;
        for (Py_ssize_t i = 0; i < n && refused == SPIKARD_OK; i++) {
            if (results[i] != SPIKARD_OK && results[i] != SPIKARD_E_NOT_FOUND) {
                refused = results[i];
            }
        }
        if (refused == SPIKARD_OK) {
            result = Py_NewRef(Py_False);
        } else if (refused == rc) {
            raise_app_error(self, rc, "spikard_respond failed");
        } else {
            raise_app_error(self, refused, "spikard_respond refused an answer");
        }
    }

done:
    if (resp != stack_resp) {
        PyMem_Free(resp);
    }
    if (results != stack_results) {
        PyMem_Free(results);
    }
    if (hdrs != stack_hdrs) {
        PyMem_Free(hdrs);
    }
    return result;
}

/* The fields of a stream_write item that is a tuple of 6 or 7 with exact
 * ints where the format "KIOOOI|I" takes numbers, read without parsing a
 * format (one item per WebSocket reply); 0 for any other item, which
 * PyArg_ParseTuple then reads, or refuses with its own message. */
static int chunk_fields(PyObject *item, unsigned long long *exchange, unsigned int *flags, PyObject **data,
                        PyObject **event, PyObject **id, unsigned int *retry_ms, unsigned int *code) {
    if (!PyTuple_CheckExact(item)) {
        return 0;
    }
    Py_ssize_t n = PyTuple_GET_SIZE(item);
    if (n != 6 && n != 7) {
        return 0;
    }
    PyObject *ex = PyTuple_GET_ITEM(item, 0), *fl = PyTuple_GET_ITEM(item, 1), *rt = PyTuple_GET_ITEM(item, 5);
    PyObject *cd = n == 7 ? PyTuple_GET_ITEM(item, 6) : NULL;
    if (!PyLong_CheckExact(ex) || !PyLong_CheckExact(fl) || !PyLong_CheckExact(rt) ||
        (cd != NULL && !PyLong_CheckExact(cd))) {
        return 0;
    }
    /* The masks are what the format's K and I do. */
    *exchange = PyLong_AsUnsignedLongLongMask(ex);
    *flags = (unsigned int)PyLong_AsUnsignedLongMask(fl);
    *retry_ms = (unsigned int)PyLong_AsUnsignedLongMask(rt);
    *code = cd != NULL ? (unsigned int)PyLong_AsUnsignedLongMask(cd) : 0;
    *data = PyTuple_GET_ITEM(item, 2);
    *event = PyTuple_GET_ITEM(item, 3);
    *id = PyTuple_GET_ITEM(item, 4);
    return 1;
}

/* stream_write(batch, timeout_ms=0) -> list[int]: queue chunks on open
 * streams and WebSockets; batch is a list of (exchange, flags, data, event,
 * id, retry_ms) or (exchange, flags, data, event, id, retry_ms, code) with
 * data/event/id bytes or str (code: a WebSocket close code, with
 * CHUNK_WS_CLOSE). Returns one SPIKARD_* code per chunk
 * (OK, E_AGAIN, E_NOT_FOUND, ...). A timeout other than 0 may wait for room
 * and releases the GIL meanwhile (a tuple copy of batch keeps every buffer
 * alive). */
static PyObject *App_stream_write(PyObject *self, PyObject *args) {
    AppObject *a = (AppObject *)self;
    PyObject *batch;
    int timeout_ms = 0;
    if (!PyArg_ParseTuple(args, "O|i:stream_write", &batch, &timeout_ms)) {
        return NULL;
    }
    if (!app_ready(a)) {
        return NULL;
    }
    PyObject *items = PySequence_Tuple(batch);
    if (items == NULL) {
        return NULL;
    }
    Py_ssize_t n = PyTuple_GET_SIZE(items);
    PyObject *out = NULL;
    spikard_chunk *chunks = PyMem_Calloc((size_t)(n ? n : 1), sizeof(spikard_chunk));
    int *results = PyMem_Calloc((size_t)(n ? n : 1), sizeof(int));
    if (chunks == NULL || results == NULL) {
        PyErr_NoMemory();
        goto done;
    }
    for (Py_ssize_t i = 0; i < n; i++) {
        PyObject *item = PyTuple_GET_ITEM(items, i);
        spikard_chunk *c = &chunks[i];
        unsigned long long exchange;
        unsigned int flags, retry_ms, code = 0;
        PyObject *data, *event, *id;
        if (chunk_fields(item, &exchange, &flags, &data, &event, &id, &retry_ms, &code)) {
            /* read item by item: the usual (int, int, data, event, id, int) */
        } else if (!PyTuple_Check(item) ||
                   !PyArg_ParseTuple(item, "KIOOOI|I:stream_write item", &exchange, &flags, &data, &event,
                                     &id, &retry_ms, &code)) {
            if (!PyErr_Occurred()) {
                PyErr_SetString(PyExc_TypeError,
                                "stream_write() items must be (exchange, flags, data, event, id, retry_ms[, "
                                "code])");
            }
            goto done;
        }
        c->exchange = (uint64_t)exchange;
        c->flags = (uint32_t)flags;
        c->retry_ms = (uint32_t)retry_ms;
        c->code = (uint32_t)code;
        if (as_str(data, &c->data) < 0 || as_str(event, &c->event) < 0 || as_str(id, &c->id) < 0) {
            goto done;
        }
    }
    if (timeout_ms != 0) {
        Py_BEGIN_ALLOW_THREADS
        (void)spikard_stream_write(results, a->app, chunks, (size_t)n, sizeof(spikard_chunk), timeout_ms);
        Py_END_ALLOW_THREADS
    } else {
        (void)spikard_stream_write(results, a->app, chunks, (size_t)n, sizeof(spikard_chunk), 0);
    }
    out = PyList_New(n);
    for (Py_ssize_t i = 0; out != NULL && i < n; i++) {
        PyObject *code = PyLong_FromLong(results[i]);
        if (code == NULL) {
            Py_CLEAR(out);
            break;
        }
        PyList_SET_ITEM(out, i, code);
    }

done:
    PyMem_Free(chunks);
    PyMem_Free(results);
    Py_DECREF(items);
    return out;
}

/* The channel argument of the ws_* calls: str (UTF-8) or bytes. */
static int channel_arg(PyObject *o, spikard_str *out) {
    if (as_str(o, out) < 0) {
        return -1;
    }
    return 0;
}

/* ws_subscribe(exchange, channel) -> bool: False once the WebSocket is
 * over (SPIKARD_E_NOT_FOUND); other failures raise. */
static PyObject *App_ws_subscribe(PyObject *self, PyObject *args) {
    AppObject *a = (AppObject *)self;
    unsigned long long exchange;
    PyObject *channel;
    spikard_str ch;
    if (!PyArg_ParseTuple(args, "KO:ws_subscribe", &exchange, &channel) || !app_ready(a) ||
        channel_arg(channel, &ch) < 0) {
        return NULL;
    }
    int rc = spikard_ws_subscribe(a->app, (uint64_t)exchange, ch.ptr, ch.len);
    if (rc == SPIKARD_E_NOT_FOUND) {
        Py_RETURN_FALSE;
    }
    if (rc != SPIKARD_OK) {
        return raise_app_error(self, rc, "spikard_ws_subscribe failed");
    }
    Py_RETURN_TRUE;
}

/* ws_unsubscribe(exchange, channel) -> bool, as ws_subscribe. */
static PyObject *App_ws_unsubscribe(PyObject *self, PyObject *args) {
    AppObject *a = (AppObject *)self;
    unsigned long long exchange;
    PyObject *channel;
    spikard_str ch;
    if (!PyArg_ParseTuple(args, "KO:ws_unsubscribe", &exchange, &channel) || !app_ready(a) ||
        channel_arg(channel, &ch) < 0) {
        return NULL;
    }
    int rc = spikard_ws_unsubscribe(a->app, (uint64_t)exchange, ch.ptr, ch.len);
    if (rc == SPIKARD_E_NOT_FOUND) {
        Py_RETURN_FALSE;
    }
    if (rc != SPIKARD_OK) {
        return raise_app_error(self, rc, "spikard_ws_unsubscribe failed");
    }
    Py_RETURN_TRUE;
}

/* ws_publish(channel, flags, data) -> int: SPIKARD_OK, or SPIKARD_E_AGAIN
 * when the Redis queue is full; other failures raise. Never blocks. */
static PyObject *App_ws_publish(PyObject *self, PyObject *args) {
    AppObject *a = (AppObject *)self;
    PyObject *channel, *data;
    unsigned int flags;
    spikard_str ch, d;
    if (!PyArg_ParseTuple(args, "OIO:ws_publish", &channel, &flags, &data) || !app_ready(a) ||
        channel_arg(channel, &ch) < 0 || as_str(data, &d) < 0) {
        return NULL;
    }
    int rc = spikard_ws_publish(a->app, ch.ptr, ch.len, (uint32_t)flags, d.ptr, d.len);
    if (rc != SPIKARD_OK && rc != SPIKARD_E_AGAIN) {
        return raise_app_error(self, rc, "spikard_ws_publish failed");
    }
    return PyLong_FromLong(rc);
}

static PyMethodDef App_methods[] = {
    {"add_route", App_add_route, METH_O, "add_route(route_json: bytes) -> int"},
    {"start", App_start, METH_NOARGS, "start() -> None: open the listener and serve."},
    {"stop", App_stop, METH_VARARGS,
     "stop(timeout_ms=-1) -> None: graceful stop; releases the GIL while it waits."},
    {"respond", App_respond, METH_O,
     "respond(batch) -> bool: answer (exchange, status, headers, body, flags) tuples."},
    {"stream_write", App_stream_write, METH_VARARGS,
     "stream_write(batch, timeout_ms=0) -> list[int]: queue (exchange, flags, data, event, id, "
     "retry_ms[, code]) chunks on open streams and WebSockets; one result code each."},
    {"ws_subscribe", App_ws_subscribe, METH_VARARGS,
     "ws_subscribe(exchange, channel) -> bool: subscribe a WebSocket; False once it is over."},
    {"ws_unsubscribe", App_ws_unsubscribe, METH_VARARGS,
     "ws_unsubscribe(exchange, channel) -> bool: unsubscribe a WebSocket; False once it is over."},
    {"ws_publish", App_ws_publish, METH_VARARGS,
     "ws_publish(channel, flags, data) -> int: publish to a channel; 0, or E_AGAIN (Redis queue "
     "full)."},
    {NULL, NULL, 0, NULL},
};

static PyGetSetDef App_getset[] = {
    {"port", App_get_port, NULL, "the bound TCP port (after start)", NULL},
    {NULL, NULL, NULL, NULL, NULL},
};

static PyType_Slot App_slots[] = {
    {Py_tp_init, App_init},
    {Py_tp_dealloc, App_dealloc},
    {Py_tp_methods, App_methods},
    {Py_tp_getset, App_getset},
    {Py_tp_new, PyType_GenericNew},
    {Py_tp_doc, "App(config_json: bytes): one libspikard app (spikard_app)."},
    {0, NULL},
};

static PyType_Spec App_spec = {
    .name = "spikard._native.App",
    .basicsize = sizeof(AppObject),
    .flags = Py_TPFLAGS_DEFAULT,
    .slots = App_slots,
};

/* ------------------------------------------------------------------------
 * Poller
 * ---------------------------------------------------------------------- */

typedef struct {
    PyObject_HEAD
    PyObject *app; /* AppObject, strong */
    spikard_poller *poller;
    spikard_event *events;
    size_t cap;
    int busy; /* a poll is running on some thread */
} PollerObject;

static int Poller_init(PyObject *self, PyObject *args, PyObject *kwds) {
    static char *kwlist[] = {"app", "lane", NULL};
    PollerObject *p = (PollerObject *)self;
    module_state *st = state_of_type(Py_TYPE(self));
    PyObject *app;
    unsigned int lane = 0;
    if (!PyArg_ParseTupleAndKeywords(args, kwds, "O!I:Poller", kwlist, st->app_type, &app, &lane)) {
        return -1;
    }
    if (p->poller != NULL) {
        PyErr_SetString(PyExc_RuntimeError, "Poller already initialised");
        return -1;
    }
    AppObject *a = (AppObject *)app;
    if (!app_ready(a)) {
        return -1;
    }
    int rc = spikard_poller_new(&p->poller, a->app, (uint32_t)lane);
    if (rc != SPIKARD_OK) {
        p->poller = NULL;
        raise_app_error(app, rc, "spikard_poller_new failed");
        return -1;
    }
    Py_INCREF(app);
    Py_XSETREF(p->app, app);
    return 0;
}

static void poller_release(PollerObject *p) {
    if (p->poller != NULL) {
        spikard_poller_free(p->poller);
        p->poller = NULL;
    }
    if (p->events != NULL) {
        PyMem_RawFree(p->events);
        p->events = NULL;
        p->cap = 0;
    }
}

static void Poller_dealloc(PyObject *self) {
    PollerObject *p = (PollerObject *)self;
    PyTypeObject *tp = Py_TYPE(self);
    poller_release(p);
    Py_CLEAR(p->app);
    tp->tp_free(self);
    Py_DECREF(tp);
}

static int poller_ready(PollerObject *p) {
    if (p->poller == NULL) {
        PyErr_SetString(PyExc_RuntimeError, "Poller is closed");
        return 0;
    }
    if (p->busy) {
        PyErr_SetString(PyExc_RuntimeError, "Poller is in use by another thread");
        return 0;
    }
    return 1;
}

static PyObject *str_to_bytes(spikard_str s) {
    return PyBytes_FromStringAndSize(s.ptr ? s.ptr : "", (Py_ssize_t)s.len);
}

static PyObject *str_to_text(spikard_str s) {
    return PyUnicode_DecodeUTF8(s.ptr ? s.ptr : "", (Py_ssize_t)s.len, "surrogateescape");
}

static PyObject *str_to_latin1(spikard_str s) {
    return PyUnicode_DecodeLatin1(s.ptr ? s.ptr : "", (Py_ssize_t)s.len, NULL);
}

static PyObject *event_meta(const spikard_event *ev) {
    if (ev->method.len == 0 && ev->path.len == 0 && ev->header_count == 0) {
        Py_RETURN_NONE;
    }
    PyObject *headers = PyList_New((Py_ssize_t)ev->header_count);
    if (headers == NULL) {
        return NULL;
    }
    for (size_t i = 0; i < ev->header_count; i++) {
        PyObject *pair = Py_BuildValue("(NN)", str_to_latin1(ev->headers[i].name),
                                       str_to_latin1(ev->headers[i].value));
        if (pair == NULL) {
            Py_DECREF(headers);
            return NULL;
        }
        PyList_SET_ITEM(headers, (Py_ssize_t)i, pair);
    }
    return Py_BuildValue("(NNNN)", str_to_latin1(ev->method), str_to_text(ev->path),
                         str_to_latin1(ev->query), headers);
}

/* Pairs as a list of (name, value) str tuples, each decoded by decode. */
static PyObject *pairs_to_list(const spikard_pair *pairs, size_t n, PyObject *(*decode)(spikard_str)) {
    PyObject *list = PyList_New((Py_ssize_t)n);
    if (list == NULL) {
        return NULL;
    }
    for (size_t i = 0; i < n; i++) {
        PyObject *pair = Py_BuildValue("(NN)", decode(pairs[i].name), decode(pairs[i].value));
        if (pair == NULL) {
            Py_DECREF(list);
            return NULL;
        }
        PyList_SET_ITEM(list, (Py_ssize_t)i, pair);
    }
    return list;
}

/* The facts a route asked for beyond meta, as (cookies, query_pairs,
 * uploads), or None when it has none of them. Cookies decode as Latin-1
 * like every header; query pairs are percent-decoded bytes, UTF-8. */
static PyObject *event_facts(const spikard_event *ev) {
    if (ev->cookie_count == 0 && ev->query_pair_count == 0 && ev->upload_count == 0) {
        Py_RETURN_NONE;
    }
    PyObject *uploads = PyList_New((Py_ssize_t)ev->upload_count);
    if (uploads == NULL) {
        return NULL;
    }
    for (size_t i = 0; i < ev->upload_count; i++) {
        PyObject *u = str_to_text(ev->uploads[i]);
        if (u == NULL) {
            Py_DECREF(uploads);
            return NULL;
        }
        PyList_SET_ITEM(uploads, (Py_ssize_t)i, u);
    }
    return Py_BuildValue("(NNN)", pairs_to_list(ev->cookies, ev->cookie_count, str_to_latin1),
                         pairs_to_list(ev->query_pairs, ev->query_pair_count, str_to_text), uploads);
}

/* A HOOK visit (2.3) as (exchange, route, None, EVENT_HOOK, phases, body:
 * bytes, (params: bytes, meta, facts)): told apart from a request by params
 * None like the other kinds, with what the hooks read behind it. */
static PyObject *hook_event(const spikard_event *ev) {
    PyObject *meta = event_meta(ev);
    if (meta == NULL) {
        return NULL;
    }
    PyObject *facts = event_facts(ev);
    if (facts == NULL) {
        Py_DECREF(meta);
        return NULL;
    }
    return Py_BuildValue("(KkOkkN(NNN))", (unsigned long long)ev->exchange, (unsigned long)ev->route, Py_None,
                         (unsigned long)ev->kind, (unsigned long)ev->code, str_to_bytes(ev->body),
                         str_to_bytes(ev->params), meta, facts);
}

/* (exchange, route, None, kind, code, body: bytes, flags) of a WS_MESSAGE,
 * WS_CLOSE or LOG, built item by item: one per WebSocket message, where
 * Py_BuildValue's format parsing was a visible share of the round trip. */
static PyObject *message_event(const spikard_event *ev) {
    PyObject *t = PyTuple_New(7);
    if (t == NULL) {
        return NULL;
    }
    PyObject *items[7] = {
        PyLong_FromUnsignedLongLong((unsigned long long)ev->exchange),
        PyLong_FromUnsignedLong((unsigned long)ev->route),
        Py_NewRef(Py_None),
        PyLong_FromUnsignedLong((unsigned long)ev->kind),
        PyLong_FromUnsignedLong((unsigned long)ev->code),
        str_to_bytes(ev->body),
        PyLong_FromUnsignedLong((unsigned long)ev->flags),
    };
    int ok = 1;
    for (Py_ssize_t i = 0; i < 7; i++) {
        if (items[i] == NULL) {
            ok = 0;
        }
        PyTuple_SET_ITEM(t, i, items[i]); /* a NULL item is fine for Py_DECREF of the tuple */
    }
    if (!ok) {
        Py_DECREF(t);
        return NULL;
    }
    return t;
}

/* poll(max_events, timeout_ms) -> list of
 * (exchange, route, params: bytes, body: bytes | None, meta | None,
 *  attachments: bytes | None, facts | None[, pre phases: int]) — the eighth
 *  item only on a REQUEST with pre hooks to run (config "hooks_in_request",
 *  spikard.h); attachments holds the upload
 * bytes that file descriptors in body locate by offset/length (see
 * spikard.h). A WebSocket's WS_OPEN comes in that shape too (its route
 * says it is one). Every other kind (the ones routes and answers opted
 * into) comes as (exchange, route, None, kind, code, None, None), and
 * WS_MESSAGE, WS_CLOSE and LOG (a batch of access-log lines, exchange 0)
 * as (exchange, route, None, kind, code, body: bytes, flags). */
static PyObject *Poller_poll(PyObject *self, PyObject *args) {
    PollerObject *p = (PollerObject *)self;
    Py_ssize_t max_events = 64;
    int timeout_ms = -1;
    if (!PyArg_ParseTuple(args, "|ni:poll", &max_events, &timeout_ms)) {
        return NULL;
    }
    if (max_events < 1) {
        PyErr_SetString(PyExc_ValueError, "max_events must be at least 1");
        return NULL;
    }
    if (!poller_ready(p)) {
        return NULL;
    }
    if ((size_t)max_events > p->cap) {
        spikard_event *ev = PyMem_RawRealloc(p->events, sizeof(spikard_event) * (size_t)max_events);
        if (ev == NULL) {
            return PyErr_NoMemory();
        }
        p->events = ev;
        p->cap = (size_t)max_events;
    }
    size_t count = 0;
    int rc;
    p->busy = 1;
    if (timeout_ms != 0) {
        Py_BEGIN_ALLOW_THREADS
        rc = spikard_poller_poll(&count, p->poller, p->events, (size_t)max_events, sizeof(spikard_event),
                                 timeout_ms);
        Py_END_ALLOW_THREADS
    } else {
        rc = spikard_poller_poll(&count, p->poller, p->events, (size_t)max_events, sizeof(spikard_event),
                                 0);
    }
    p->busy = 0;
    if (rc != SPIKARD_OK) {
        return raise_app_error(p->app, rc, "spikard_poller_poll failed");
    }
    PyObject *out = PyList_New(0);
    if (out == NULL) {
        return NULL;
    }
    for (size_t i = 0; i < count; i++) {
        const spikard_event *ev = &p->events[i];
        if (ev->kind == SPIKARD_EVENT_WS_MESSAGE || ev->kind == SPIKARD_EVENT_WS_CLOSE ||
            ev->kind == SPIKARD_EVENT_LOG) {
            PyObject *msg = message_event(ev);
            if (msg == NULL || PyList_Append(out, msg) < 0) {
                Py_XDECREF(msg);
                Py_DECREF(out);
                return NULL;
            }
            Py_DECREF(msg);
            continue;
        }
        if (ev->kind == SPIKARD_EVENT_HOOK) {
            PyObject *hook = hook_event(ev);
            if (hook == NULL || PyList_Append(out, hook) < 0) {
                Py_XDECREF(hook);
                Py_DECREF(out);
                return NULL;
            }
            Py_DECREF(hook);
            continue;
        }
        if (ev->kind != SPIKARD_EVENT_REQUEST && ev->kind != SPIKARD_EVENT_WS_OPEN) {
            /* Told apart by params None: the dispatcher cancels a handler
             * on DISCONNECT, and streams wait for credit or WRITTEN. */
            PyObject *other = Py_BuildValue("(KkOkkOO)", (unsigned long long)ev->exchange,
                                            (unsigned long)ev->route, Py_None, (unsigned long)ev->kind,
                                            (unsigned long)ev->code, Py_None, Py_None);
            if (other == NULL || PyList_Append(out, other) < 0) {
                Py_XDECREF(other);
                Py_DECREF(out);
                return NULL;
            }
            Py_DECREF(other);
            continue;
        }
        PyObject *meta = event_meta(ev);
        if (meta == NULL) {
            Py_DECREF(out);
            return NULL;
        }
        PyObject *body;
        if (ev->body.len == 0) {
            body = Py_NewRef(Py_None);
        } else {
            body = str_to_bytes(ev->body);
        }
        if (body == NULL) {
            Py_DECREF(meta);
            Py_DECREF(out);
            return NULL;
        }
        /* Upload bytes: one copy into a bytes object, None when there are
         * no file parts (the common case costs nothing). */
        PyObject *attachments;
        if (ev->attachments.len == 0) {
            attachments = Py_NewRef(Py_None);
        } else {
            attachments = str_to_bytes(ev->attachments);
        }
        if (attachments == NULL) {
            Py_DECREF(body);
            Py_DECREF(meta);
            Py_DECREF(out);
            return NULL;
        }
        PyObject *facts = event_facts(ev);
        if (facts == NULL) {
            Py_DECREF(attachments);
            Py_DECREF(body);
            Py_DECREF(meta);
            Py_DECREF(out);
            return NULL;
        }
        /* "N" steals body, meta, attachments and facts, even when the build
         * fails. */
        PyObject *tuple;
        if (ev->code != 0) {
            /* 2.3, config "hooks_in_request": a REQUEST carrying the pre
             * phases its hooks still run, as an eighth item; a plain one
             * keeps its seven. */
            tuple = Py_BuildValue("(KkNNNNNk)", (unsigned long long)ev->exchange,
                                  (unsigned long)ev->route, str_to_bytes(ev->params), body, meta,
                                  attachments, facts, (unsigned long)ev->code);
        } else {
            tuple = Py_BuildValue("(KkNNNNN)", (unsigned long long)ev->exchange,
                                  (unsigned long)ev->route, str_to_bytes(ev->params), body, meta,
                                  attachments, facts);
        }
        if (tuple == NULL) {
            Py_DECREF(out);
            return NULL;
        }
        if (PyList_Append(out, tuple) < 0) {
            Py_DECREF(tuple);
            Py_DECREF(out);
            return NULL;
        }
        Py_DECREF(tuple);
    }
    return out;
}

static PyObject *Poller_fileno(PyObject *self, PyObject *Py_UNUSED(ignored)) {
    PollerObject *p = (PollerObject *)self;
    if (p->poller == NULL) {
        PyErr_SetString(PyExc_RuntimeError, "Poller is closed");
        return NULL;
    }
    int fd = -1;
    int rc = spikard_poller_fd(&fd, p->poller);
    if (rc != SPIKARD_OK) {
        return raise_app_error(p->app, rc, "spikard_poller_fd failed");
    }
    return PyLong_FromLong(fd);
}

static PyObject *Poller_get_fd(PyObject *self, void *Py_UNUSED(closure)) {
    return Poller_fileno(self, NULL);
}

static PyObject *Poller_close(PyObject *self, PyObject *Py_UNUSED(ignored)) {
    PollerObject *p = (PollerObject *)self;
    if (p->busy) {
        PyErr_SetString(PyExc_RuntimeError, "Poller is in use by another thread");
        return NULL;
    }
    poller_release(p);
    Py_RETURN_NONE;
}

static PyMethodDef Poller_methods[] = {
    {"poll", Poller_poll, METH_VARARGS,
     "poll(max_events=64, timeout_ms=-1) -> list: take a batch of request events."},
    {"fileno", Poller_fileno, METH_NOARGS, "fileno() -> int: the lane's readiness fd."},
    {"close", Poller_close, METH_NOARGS, "close() -> None: free the poller (idempotent)."},
    {NULL, NULL, 0, NULL},
};

static PyGetSetDef Poller_getset[] = {
    {"fd", Poller_get_fd, NULL, "the lane's readiness fd", NULL},
    {NULL, NULL, NULL, NULL, NULL},
};

static PyType_Slot Poller_slots[] = {
    {Py_tp_init, Poller_init},
    {Py_tp_dealloc, Poller_dealloc},
    {Py_tp_methods, Poller_methods},
    {Py_tp_getset, Poller_getset},
    {Py_tp_new, PyType_GenericNew},
    {Py_tp_doc, "Poller(app: App, lane: int): pulls request batches from one lane."},
    {0, NULL},
};

static PyType_Spec Poller_spec = {
    .name = "spikard._native.Poller",
    .basicsize = sizeof(PollerObject),
    .flags = Py_TPFLAGS_DEFAULT,
    .slots = Poller_slots,
};

/* ------------------------------------------------------------------------
 * Supervisor
 * ---------------------------------------------------------------------- */

typedef struct {
    PyObject_HEAD
    spikard_supervisor *sup;
    int busy; /* a wait is running: close must not free under it */
} SupervisorObject;

/* raise SpikardError(rc, message) with a message of our own, for the calls
 * that set no spikard_last_error (spikard_supervisor_signal). */
static PyObject *raise_with_message(PyTypeObject *tp, int rc, const char *msg) {
    PyObject *args = Py_BuildValue("(is)", rc, msg);
    if (args != NULL) {
        PyErr_SetObject(state_of_type(tp)->error, args);
        Py_DECREF(args);
    }
    return NULL;
}

/* A NULL-terminated array of the file-system encodings of seq's items (str,
 * bytes or os.PathLike), kept alive by *keep (a list of bytes). */
static char **fs_strings(PyObject *seq, const char *what, PyObject **keep) {
    PyObject *fast = PySequence_Fast(seq, what);
    if (fast == NULL) {
        return NULL;
    }
    Py_ssize_t n = PySequence_Fast_GET_SIZE(fast);
    char **out = PyMem_Calloc((size_t)n + 1, sizeof *out);
    *keep = PyList_New(0);
    if (out == NULL || *keep == NULL) {
        PyMem_Free(out);
        Py_CLEAR(*keep);
        Py_DECREF(fast);
        PyErr_NoMemory();
        return NULL;
    }
    for (Py_ssize_t i = 0; i < n; i++) {
        PyObject *bytes = NULL;
        if (!PyUnicode_FSConverter(PySequence_Fast_GET_ITEM(fast, i), &bytes) ||
            PyList_Append(*keep, bytes) < 0) {
            Py_XDECREF(bytes);
            PyMem_Free(out);
            Py_CLEAR(*keep);
            Py_DECREF(fast);
            return NULL;
        }
        out[i] = PyBytes_AS_STRING(bytes);
        Py_DECREF(bytes); /* *keep holds it */
    }
    Py_DECREF(fast);
    return out;
}

/* An int argument (PyLong_AsInt is 3.13+). */
static int as_signo(PyObject *o, int *out) {
    long v = PyLong_AsLong(o);
    if (v == -1 && PyErr_Occurred()) {
        return 0;
    }
    if (v < INT_MIN || v > INT_MAX) {
        PyErr_SetString(PyExc_OverflowError, "signal number out of range");
        return 0;
    }
    *out = (int)v;
    return 1;
}

static int Supervisor_init(PyObject *self, PyObject *args, PyObject *kwds) {
    static char *kwlist[] = {"argv", "options_json", "env", NULL};
    SupervisorObject *s = (SupervisorObject *)self;
    PyObject *argv_seq, *env_seq = Py_None;
    Py_buffer opts;
    if (!PyArg_ParseTupleAndKeywords(args, kwds, "Oy*|O:Supervisor", kwlist, &argv_seq, &opts,
                                     &env_seq)) {
        return -1;
    }
    if (s->sup != NULL) {
        PyBuffer_Release(&opts);
        PyErr_SetString(PyExc_RuntimeError, "Supervisor already initialised");
        return -1;
    }
    PyObject *keep_argv = NULL, *keep_env = NULL;
    char **argv = fs_strings(argv_seq, "argv must be a sequence", &keep_argv);
    char **envp = NULL;
    if (argv != NULL && env_seq != Py_None) {
        envp = fs_strings(env_seq, "env must be a sequence or None", &keep_env);
    }
    int rc = SPIKARD_E_INVALID;
    if (argv != NULL && (env_seq == Py_None || envp != NULL)) {
        /* Spawning forks and execs: no GIL needed, and other threads go on. */
        Py_BEGIN_ALLOW_THREADS
        rc = spikard_supervise(&s->sup, (const char *const *)argv, (const char *const *)envp,
                               (const char *)opts.buf, (size_t)opts.len);
        Py_END_ALLOW_THREADS
        if (rc != SPIKARD_OK) {
            s->sup = NULL;
            raise_app_error(self, rc, "spikard_supervise failed");
        }
    }
    PyMem_Free(argv);
    PyMem_Free(envp);
    Py_XDECREF(keep_argv);
    Py_XDECREF(keep_env);
    PyBuffer_Release(&opts);
    return rc == SPIKARD_OK ? 0 : -1;
}

static void supervisor_release(SupervisorObject *s) {
    if (s->sup != NULL) {
        spikard_supervisor *sup = s->sup;
        s->sup = NULL;
        /* Kills and waits for the workers if they still run. */
        Py_BEGIN_ALLOW_THREADS
        spikard_supervisor_free(sup);
        Py_END_ALLOW_THREADS
    }
}

static void Supervisor_dealloc(PyObject *self) {
    PyTypeObject *tp = Py_TYPE(self);
    supervisor_release((SupervisorObject *)self);
    tp->tp_free(self);
    Py_DECREF(tp);
}

static int supervisor_ready(SupervisorObject *s) {
    if (s->sup == NULL) {
        PyErr_SetString(PyExc_RuntimeError, "Supervisor is closed");
        return 0;
    }
    return 1;
}

/* wait(timeout_ms) -> int | None: the exit status once supervision has
 * ended, None while it runs. Raises SpikardError(E_WORKER, message) if the
 * supervisor gave up on a worker. */
static PyObject *Supervisor_wait(PyObject *self, PyObject *args) {
    SupervisorObject *s = (SupervisorObject *)self;
    int timeout_ms = -1;
    if (!PyArg_ParseTuple(args, "|i:wait", &timeout_ms)) {
        return NULL;
    }
    if (!supervisor_ready(s)) {
        return NULL;
    }
    if (s->busy) {
        PyErr_SetString(PyExc_RuntimeError, "Supervisor.wait is running on another thread");
        return NULL;
    }
    int done = 0, status = 0, rc;
    s->busy = 1;
    Py_BEGIN_ALLOW_THREADS
    rc = spikard_supervisor_wait(&done, &status, s->sup, timeout_ms);
    Py_END_ALLOW_THREADS
    s->busy = 0;
    if (rc != SPIKARD_OK) {
        return raise_app_error(self, rc, "spikard_supervisor_wait failed");
    }
    if (!done) {
        Py_RETURN_NONE;
    }
    return PyLong_FromLong(status);
}

static PyObject *Supervisor_signal(PyObject *self, PyObject *arg) {
    SupervisorObject *s = (SupervisorObject *)self;
    int signo;
    if (!as_signo(arg, &signo)) {
        return NULL;
    }
    if (!supervisor_ready(s)) {
        return NULL;
    }
    int rc = spikard_supervisor_signal(s->sup, signo);
    if (rc == SPIKARD_E_UNSUPPORTED) {
        return raise_with_message(Py_TYPE(self), rc, "SIGHUP (reload) is not supported");
    }
    if (rc != SPIKARD_OK) {
        return raise_with_message(Py_TYPE(self), rc, "only SIGINT and SIGTERM can be passed on");
    }
    Py_RETURN_NONE;
}

static PyObject *Supervisor_close(PyObject *self, PyObject *Py_UNUSED(ignored)) {
    SupervisorObject *s = (SupervisorObject *)self;
    if (s->busy) {
        PyErr_SetString(PyExc_RuntimeError, "Supervisor.wait is running on another thread");
        return NULL;
    }
    supervisor_release(s);
    Py_RETURN_NONE;
}

static PyObject *Supervisor_get_port(PyObject *self, void *Py_UNUSED(closure)) {
    SupervisorObject *s = (SupervisorObject *)self;
    if (!supervisor_ready(s)) {
        return NULL;
    }
    int port = 0;
    int rc = spikard_supervisor_port(&port, s->sup);
    if (rc != SPIKARD_OK) {
        return raise_app_error(self, rc, "spikard_supervisor_port failed");
    }
    return PyLong_FromLong(port);
}

static PyMethodDef Supervisor_methods[] = {
    {"wait", Supervisor_wait, METH_VARARGS,
     "wait(timeout_ms=-1) -> int | None: the exit status once every worker has exited, None "
     "before; releases the GIL while it waits."},
    {"signal", Supervisor_signal, METH_O,
     "signal(signo) -> None: pass on SIGINT or SIGTERM (a second one kills the workers)."},
    {"close", Supervisor_close, METH_NOARGS,
     "close() -> None: free the supervisor, killing workers that still run (idempotent)."},
    {NULL, NULL, 0, NULL},
};

static PyGetSetDef Supervisor_getset[] = {
    {"port", Supervisor_get_port, NULL, "the port every worker binds", NULL},
    {NULL, NULL, NULL, NULL, NULL},
};

static PyType_Slot Supervisor_slots[] = {
    {Py_tp_init, Supervisor_init},
    {Py_tp_dealloc, Supervisor_dealloc},
    {Py_tp_methods, Supervisor_methods},
    {Py_tp_getset, Supervisor_getset},
    {Py_tp_new, PyType_GenericNew},
    {Py_tp_doc, "Supervisor(argv, options_json: bytes, env=None): worker processes "
                "(spikard_supervise)."},
    {0, NULL},
};

static PyType_Spec Supervisor_spec = {
    .name = "spikard._native.Supervisor",
    .basicsize = sizeof(SupervisorObject),
    .flags = Py_TPFLAGS_DEFAULT,
    .slots = Supervisor_slots,
};

/* ------------------------------------------------------------------------
 * Module
 * ---------------------------------------------------------------------- */

static PyObject *mod_abi_version(PyObject *Py_UNUSED(m), PyObject *Py_UNUSED(ignored)) {
    return PyLong_FromLong(spikard_abi_version());
}

static PyObject *raise_module_error(PyObject *m, int rc, const char *what) {
    const char *msg = spikard_last_error(); /* per thread: ours, the GIL held */
    if (msg == NULL || *msg == '\0') {
        msg = what;
    }
    PyObject *eargs = Py_BuildValue(
        "(iN)", rc, PyUnicode_DecodeUTF8(msg, (Py_ssize_t)strlen(msg), "replace"));
    if (eargs != NULL) {
        PyErr_SetObject(((module_state *)PyModule_GetState(m))->error, eargs);
        Py_DECREF(eargs);
    }
    return NULL;
}

/* The verdict of a document check (spikard_config_check or
 * spikard_supervise_check): None, or SpikardError(code, message) naming the
 * key it refuses. */
static PyObject *check_document(PyObject *m, PyObject *arg, int (*check)(const char *, size_t),
                                const char *what) {
    Py_buffer doc;
    if (PyObject_GetBuffer(arg, &doc, PyBUF_SIMPLE) < 0) {
        return NULL;
    }
    int rc = check((const char *)doc.buf, (size_t)doc.len);
    PyBuffer_Release(&doc);
    if (rc == SPIKARD_OK) {
        Py_RETURN_NONE;
    }
    return raise_module_error(m, rc, what);
}

static PyObject *mod_check_config(PyObject *m, PyObject *arg) {
    return check_document(m, arg, spikard_config_check, "spikard_config_check failed");
}

static PyObject *mod_check_supervise(PyObject *m, PyObject *arg) {
    return check_document(m, arg, spikard_supervise_check, "spikard_supervise_check failed");
}

static PyObject *mod_worker_index(PyObject *m, PyObject *Py_UNUSED(ignored)) {
    int index = 0;
    int rc = spikard_worker_index(&index);
    if (rc == SPIKARD_E_NOT_FOUND) {
        Py_RETURN_NONE;
    }
    if (rc != SPIKARD_OK) {
        return raise_module_error(m, rc, "spikard_worker_index failed");
    }
    return PyLong_FromLong(index);
}

static PyObject *mod_signal_onstack(PyObject *m, PyObject *arg) {
    int signo;
    if (!as_signo(arg, &signo)) {
        return NULL;
    }
    int rc = spikard_signal_onstack(signo);
    if (rc != SPIKARD_OK) {
        return raise_module_error(m, rc, "spikard_signal_onstack failed");
    }
    Py_RETURN_NONE;
}

/* step(context, coro) -> (done, value): coro.send(None) inside context, as
 * context.run(coro.send, None) does, but a coroutine that returns gives
 * (True, its value) instead of raising StopIteration (the exception was
 * most of the cost of a WebSocket message handler that never suspends);
 * one that suspends gives (False, what it yielded). An exception the
 * coroutine raises propagates. */
static PyObject *mod_step(PyObject *m, PyObject *const *args, Py_ssize_t nargs) {
    (void)m;
    if (nargs != 2 || !PyContext_CheckExact(args[0])) {
        PyErr_SetString(PyExc_TypeError, "step(context, coro): context must be a contextvars.Context");
        return NULL;
    }
    PyObject *ctx = args[0];
    if (PyContext_Enter(ctx) < 0) {
        return NULL;
    }
    PyObject *value = NULL;
    PySendResult r = PyIter_Send(args[1], Py_None, &value);
    if (PyContext_Exit(ctx) < 0) {
        Py_XDECREF(value);
        return NULL;
    }
    if (r == PYGEN_ERROR) {
        return NULL;
    }
    PyObject *out = PyTuple_Pack(2, r == PYGEN_RETURN ? Py_True : Py_False, value);
    Py_DECREF(value);
    return out;
}

static PyMethodDef module_methods[] = {
    {"step", (PyCFunction)(void (*)(void))mod_step, METH_FASTCALL,
     "step(context, coro) -> (done, value): send None into coro inside context; (True, its "
     "return value) once it returns, else (False, what it yielded)."},
    {"abi_version", mod_abi_version, METH_NOARGS, "abi_version() -> int: the loaded library's ABI."},
    {"worker_index", mod_worker_index, METH_NOARGS,
     "worker_index() -> int | None: this worker's index, None outside a worker."},
    {"signal_onstack", mod_signal_onstack, METH_O,
     "signal_onstack(signo) -> None: add SA_ONSTACK to signo's current handler."},
    {"check_config", mod_check_config, METH_O,
     "check_config(config_json: bytes) -> None: the core's verdict on a configuration document; "
     "raises SpikardError(code, message) naming the key it refuses."},
    {"check_supervise", mod_check_supervise, METH_O,
     "check_supervise(options_json: bytes) -> None: the core's verdict on supervisor options "
     "(workers, ...); raises SpikardError(code, message) naming the key it refuses."},
    {NULL, NULL, 0, NULL},
};

static int module_exec(PyObject *m) {
    int loaded = spikard_abi_version();
    /* Same major, and at least the minor built against: this extension
     * calls the functions that minor added. */
    if (SPIKARD_ABI_MAJOR(loaded) != SPIKARD_ABI_MAJOR(SPIKARD_ABI_VERSION) || loaded < SPIKARD_ABI_VERSION) {
        PyErr_Format(PyExc_ImportError,
                     "libspikard ABI version %d does not match the version this extension was "
                     "built for (%d); rebuild the spikard package",
                     loaded, SPIKARD_ABI_VERSION);
        return -1;
    }
    module_state *st = PyModule_GetState(m);
    st->error = PyErr_NewExceptionWithDoc("spikard._native.SpikardError",
                                          "A libspikard call failed; args are (code, message).",
                                          NULL, NULL);
    if (st->error == NULL || PyModule_AddObjectRef(m, "SpikardError", st->error) < 0) {
        return -1;
    }
    st->closed = PyErr_NewExceptionWithDoc("spikard._native.Closed",
                                           "The app has stopped; no more events will come.",
                                           st->error, NULL);
    if (st->closed == NULL || PyModule_AddObjectRef(m, "Closed", st->closed) < 0) {
        return -1;
    }
    st->app_type = (PyTypeObject *)PyType_FromModuleAndSpec(m, &App_spec, NULL);
    if (st->app_type == NULL || PyModule_AddType(m, st->app_type) < 0) {
        return -1;
    }
    st->poller_type = (PyTypeObject *)PyType_FromModuleAndSpec(m, &Poller_spec, NULL);
    if (st->poller_type == NULL || PyModule_AddType(m, st->poller_type) < 0) {
        return -1;
    }
    st->supervisor_type = (PyTypeObject *)PyType_FromModuleAndSpec(m, &Supervisor_spec, NULL);
    if (st->supervisor_type == NULL || PyModule_AddType(m, st->supervisor_type) < 0) {
        return -1;
    }
    if (PyModule_AddIntConstant(m, "ABI_VERSION", SPIKARD_ABI_VERSION) < 0 ||
        PyModule_AddIntConstant(m, "RESPONSE_HANDLER_ERROR", SPIKARD_RESPONSE_HANDLER_ERROR) < 0 ||
        PyModule_AddIntConstant(m, "RESPONSE_PROBLEM", SPIKARD_RESPONSE_PROBLEM) < 0 ||
        PyModule_AddIntConstant(m, "RESPONSE_STREAM", SPIKARD_RESPONSE_STREAM) < 0 ||
        PyModule_AddIntConstant(m, "RESPONSE_SSE", SPIKARD_RESPONSE_SSE) < 0 ||
        PyModule_AddIntConstant(m, "RESPONSE_WRITTEN", SPIKARD_RESPONSE_WRITTEN) < 0 ||
        PyModule_AddIntConstant(m, "RESPONSE_FILE", SPIKARD_RESPONSE_FILE) < 0 ||
        PyModule_AddIntConstant(m, "RESPONSE_WS_ACCEPT", SPIKARD_RESPONSE_WS_ACCEPT) < 0 ||
        PyModule_AddIntConstant(m, "EVENT_HOOK", SPIKARD_EVENT_HOOK) < 0 ||
        PyModule_AddIntConstant(m, "RESPONSE_CONTINUE", SPIKARD_RESPONSE_CONTINUE) < 0 ||
        PyModule_AddIntConstant(m, "HOOK_ON_REQUEST", SPIKARD_HOOK_ON_REQUEST) < 0 ||
        PyModule_AddIntConstant(m, "HOOK_PRE_VALIDATION", SPIKARD_HOOK_PRE_VALIDATION) < 0 ||
        PyModule_AddIntConstant(m, "HOOK_PRE_HANDLER", SPIKARD_HOOK_PRE_HANDLER) < 0 ||
        PyModule_AddIntConstant(m, "HOOK_ON_RESPONSE", SPIKARD_HOOK_ON_RESPONSE) < 0 ||
        PyModule_AddIntConstant(m, "HOOK_ON_ERROR", SPIKARD_HOOK_ON_ERROR) < 0 ||
        PyModule_AddIntConstant(m, "NO_ROUTE", (long)SPIKARD_NO_ROUTE) < 0 ||
        PyModule_AddIntConstant(m, "EVENT_WS_OPEN", SPIKARD_EVENT_WS_OPEN) < 0 ||
        PyModule_AddIntConstant(m, "EVENT_WS_MESSAGE", SPIKARD_EVENT_WS_MESSAGE) < 0 ||
        PyModule_AddIntConstant(m, "EVENT_WS_CLOSE", SPIKARD_EVENT_WS_CLOSE) < 0 ||
        PyModule_AddIntConstant(m, "EVENT_LOG", SPIKARD_EVENT_LOG) < 0 ||
        PyModule_AddIntConstant(m, "EVENT_F_BINARY", SPIKARD_EVENT_F_BINARY) < 0 ||
        PyModule_AddIntConstant(m, "CHUNK_WS_BINARY", SPIKARD_CHUNK_WS_BINARY) < 0 ||
        PyModule_AddIntConstant(m, "CHUNK_WS_CLOSE", SPIKARD_CHUNK_WS_CLOSE) < 0 ||
        PyModule_AddIntConstant(m, "EVENT_DISCONNECT", SPIKARD_EVENT_DISCONNECT) < 0 ||
        PyModule_AddIntConstant(m, "EVENT_WRITTEN", SPIKARD_EVENT_WRITTEN) < 0 ||
        PyModule_AddIntConstant(m, "EVENT_STREAM_CREDIT", SPIKARD_EVENT_STREAM_CREDIT) < 0 ||
        PyModule_AddIntConstant(m, "GONE_CLIENT", SPIKARD_GONE_CLIENT) < 0 ||
        PyModule_AddIntConstant(m, "GONE_TIMEOUT", SPIKARD_GONE_TIMEOUT) < 0 ||
        PyModule_AddIntConstant(m, "GONE_STOPPING", SPIKARD_GONE_STOPPING) < 0 ||
        PyModule_AddIntConstant(m, "GONE_STALLED", SPIKARD_GONE_STALLED) < 0 ||
        PyModule_AddIntConstant(m, "CHUNK_END", SPIKARD_CHUNK_END) < 0 ||
        PyModule_AddIntConstant(m, "CHUNK_ABORT", SPIKARD_CHUNK_ABORT) < 0 ||
        PyModule_AddIntConstant(m, "E_INVALID", SPIKARD_E_INVALID) < 0 ||
        PyModule_AddIntConstant(m, "E_UNSUPPORTED", SPIKARD_E_UNSUPPORTED) < 0 ||
        PyModule_AddIntConstant(m, "E_AGAIN", SPIKARD_E_AGAIN) < 0 ||
        PyModule_AddIntConstant(m, "E_NOT_FOUND", SPIKARD_E_NOT_FOUND) < 0 ||
        PyModule_AddIntConstant(m, "E_IO", SPIKARD_E_IO) < 0 ||
        PyModule_AddIntConstant(m, "E_CLOSED", SPIKARD_E_CLOSED) < 0 ||
        PyModule_AddIntConstant(m, "E_WORKER", SPIKARD_E_WORKER) < 0) {
        return -1;
    }
    return 0;
}

static int module_traverse(PyObject *m, visitproc visit, void *arg) {
    module_state *st = PyModule_GetState(m);
    if (st == NULL) {
        return 0;
    }
    Py_VISIT(st->app_type);
    Py_VISIT(st->poller_type);
    Py_VISIT(st->supervisor_type);
    Py_VISIT(st->error);
    Py_VISIT(st->closed);
    return 0;
}

static int module_clear(PyObject *m) {
    module_state *st = PyModule_GetState(m);
    if (st == NULL) {
        return 0;
    }
    Py_CLEAR(st->app_type);
    Py_CLEAR(st->poller_type);
    Py_CLEAR(st->supervisor_type);
    Py_CLEAR(st->error);
    Py_CLEAR(st->closed);
    return 0;
}

static void module_free(void *m) {
    module_clear((PyObject *)m);
}

static PyModuleDef_Slot module_slots[] = {
    {Py_mod_exec, module_exec},
    {0, NULL},
};

static struct PyModuleDef native_module = {
    PyModuleDef_HEAD_INIT,
    .m_name = "spikard._native",
    .m_doc = "Marshalling between CPython and libspikard (include/spikard.h).",
    .m_size = sizeof(module_state),
    .m_methods = module_methods,
    .m_slots = module_slots,
    .m_traverse = module_traverse,
    .m_clear = module_clear,
    .m_free = module_free,
};

PyMODINIT_FUNC PyInit__native(void) {
    return PyModuleDef_Init(&native_module);
}
