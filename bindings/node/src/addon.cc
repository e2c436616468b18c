/*
 * addon.cc — the Node.js face of libspikard (include/spikard.h), for lib/.
 *
 * This addon only marshals: JS arrays, strings and Buffers to the ABI's
 * records and back. Routing, validation and every error response live in
 * the core; the dispatch loop that calls handlers is lib/'s. The interface
 * is src/NATIVE.md.
 *
 * Threads: everything runs on the JS thread, which never blocks in the
 * library: a Poller waits on its fd with a uv_poll_t and polls with a zero
 * timeout, respond and streamWrite only copy. The calls that wait
 * (spikard_app_stop, spikard_app_free of an app still running,
 * spikard_supervisor_wait, and spikard_supervisor_free before the end) run
 * on libuv's worker pool.
 *
 * Lifetimes: an open Poller holds a strong reference to its App, so the App
 * (and its spikard_app) outlives every poller of it, as spikard_app_free
 * requires, and to itself, so that a serving poller is never collected.
 * Both are dropped when it closes: on close() or once the lane reports
 * SPIKARD_E_CLOSED. Event data points into the poller's buffer until the
 * next poll, so every value handed to onEvents is a copy.
 */
#include <napi.h>
#include <uv.h>

#include <algorithm>
#include <cmath>
#include <memory>
#include <string>
#include <unordered_set>
#include <vector>

#include "spikard.h"

namespace {

/* Events taken per poll (NATIVE.md). */
constexpr size_t kBatch = 64;
/* Strings of one respond/streamWrite batch are encoded into blocks of this
 * size; a batch of small answers reuses one block and allocates nothing. */
constexpr size_t kArenaBlock = 64 * 1024;

class App;
class Poller;

/* Per-environment state (a worker thread loads the addon again). */
struct AddonData {
    Napi::FunctionReference app_ctor;
    Napi::FunctionReference error_ctor; /* SpikardError */
    uv_loop_t *loop = nullptr;
    std::unordered_set<Poller *> pollers; /* open ones */
    bool tearing_down = false;
};

/* ------------------------------------------------------------------------
 * Errors
 * ---------------------------------------------------------------------- */

/* SpikardError(code, message): an Error whose code is a SPIKARD_E_* number. */
const char kErrorClass[] =
    "(() => {\n"
    "    class SpikardError extends Error {\n"
    "        constructor(code, message) {\n"
    "            super(message);\n"
    "            this.code = code;\n"
    "        }\n"
    "    }\n"
    "    SpikardError.prototype.name = 'SpikardError';\n"
    "    return SpikardError;\n"
    "})()";

Napi::Error SpikardError(Napi::Env env, int code, const std::string &message) {
    AddonData *data = env.GetInstanceData<AddonData>();
    Napi::Object err = data->error_ctor.New({Napi::Number::New(env, code), Napi::String::New(env, message)});
    return Napi::Error(env, err);
}

/* The error of a failed call, with spikard_last_error() (per thread: read
 * on the thread that made the call) or what when the library set none. */
Napi::Error LastError(Napi::Env env, int code, const char *what) {
    const char *m = spikard_last_error();
    return SpikardError(env, code, (m == nullptr || *m == '\0') ? what : m);
}

void Check(Napi::Env env, napi_status status) {
    if (status != napi_ok) {
        throw Napi::Error::New(env);
    }
}

/* ------------------------------------------------------------------------
 * Arguments
 * ---------------------------------------------------------------------- */

napi_valuetype TypeOf(napi_env env, napi_value v) {
    napi_valuetype t;
    Check(env, napi_typeof(env, v, &t));
    return t;
}

napi_value Element(napi_env env, napi_value array, uint32_t i) {
    napi_value v;
    Check(env, napi_get_element(env, array, i, &v));
    return v;
}

bool IsArray(napi_env env, napi_value v) {
    bool is = false;
    Check(env, napi_is_array(env, v, &is));
    return is;
}

uint32_t Length(napi_env env, napi_value array) {
    uint32_t n;
    Check(env, napi_get_array_length(env, array, &n));
    return n;
}

[[noreturn]] void TypeError(napi_env env, const std::string &message) {
    throw Napi::TypeError::New(env, message);
}

/* A number as uint32 by ToUint32 (so 1 << 31 is bit 31); undefined and
 * null are 0 when optional. */
uint32_t Uint32(napi_env env, napi_value v, const char *what, bool optional = false) {
    if (optional) {
        napi_valuetype t = TypeOf(env, v);
        if (t == napi_undefined || t == napi_null) {
            return 0;
        }
    }
    uint32_t out;
    if (napi_get_value_uint32(env, v, &out) != napi_ok) {
        TypeError(env, std::string(what) + " must be a number");
    }
    return out;
}

/* An exchange id: a bigint, or a safe non-negative integer number. */
uint64_t Exchange(napi_env env, napi_value v) {
    napi_valuetype t = TypeOf(env, v);
    if (t == napi_bigint) {
        uint64_t out;
        bool lossless;
        Check(env, napi_get_value_bigint_uint64(env, v, &out, &lossless));
        if (!lossless) {
            throw Napi::RangeError::New(env, "exchange must fit in 64 bits unsigned");
        }
        return out;
    }
    if (t == napi_number) {
        double d;
        Check(env, napi_get_value_double(env, v, &d));
        if (d >= 0 && d <= 9007199254740991.0 && std::trunc(d) == d) {
            return static_cast<uint64_t>(d);
        }
    }
    TypeError(env, "exchange must be a bigint");
}

/* A string (UTF-8) or Buffer argument as an owned std::string, for the
 * documents that cross once (config, routes). */
std::string Document(napi_env env, napi_value v, const char *what) {
    bool is_buffer = false;
    Check(env, napi_is_buffer(env, v, &is_buffer));
    if (is_buffer) {
        void *data;
        size_t len;
        Check(env, napi_get_buffer_info(env, v, &data, &len));
        return std::string(static_cast<const char *>(data), len);
    }
    if (TypeOf(env, v) != napi_string) {
        TypeError(env, std::string(what) + " must be a string or a Buffer");
    }
    size_t len;
    Check(env, napi_get_value_string_utf8(env, v, nullptr, 0, &len));
    std::string out(len, '\0');
    Check(env, napi_get_value_string_utf8(env, v, &out[0], len + 1, &len));
    return out;
}

/* Stable scratch memory for one batch: blocks never move, so a pointer
 * taken stays valid until Reset. */
class Arena {
  public:
    char *Take(size_t n) {
        while (cur_ < blocks_.size() && used_ + n > blocks_[cur_].size()) {
            cur_++;
            used_ = 0;
        }
        if (cur_ == blocks_.size()) {
            blocks_.emplace_back(std::max(n, kArenaBlock));
            used_ = 0;
        }
        char *p = blocks_[cur_].data() + used_;
        used_ += n;
        return p;
    }

    /* Hand back the last n bytes of the latest Take (it asked for more
     * than it used). */
    void Unuse(size_t n) { used_ -= n; }

    /* Keep one standard block between batches; drop anything larger. */
    void Reset() {
        cur_ = 0;
        used_ = 0;
        if (blocks_.size() > 1 || (blocks_.size() == 1 && blocks_[0].size() != kArenaBlock)) {
            blocks_.clear();
        }
    }

  private:
    std::vector<std::vector<char>> blocks_;
    size_t cur_ = 0;
    size_t used_ = 0;
};

enum class Encoding { kUtf8, kLatin1 };

/* A Buffer (used in place: it stays alive and unmoved for the call) or a
 * string (encoded into arena) as a spikard_str; null and undefined are
 * empty. Header names and values are Latin-1, as Node's http writes them
 * and as events decode them; everything else is UTF-8. */
spikard_str Bytes(napi_env env, napi_value v, Encoding enc, Arena &arena, const char *what) {
    napi_valuetype t = TypeOf(env, v);
    if (t == napi_string) {
        size_t len;
        if (enc == Encoding::kUtf8) {
            /* One pass where the worst case fits a standard block: a UTF-16
             * unit is at most 3 bytes of UTF-8 (a pair is 4 for 2 units, a
             * lone surrogate its 3-byte replacement), and the length in
             * units costs nothing, where asking the UTF-8 length first is a
             * second pass over the text (1% of json-medium's CPU). */
            size_t units;
            Check(env, napi_get_value_string_utf16(env, v, nullptr, 0, &units));
            if (units == 0) {
                return spikard_str{nullptr, 0};
            }
            if (units <= (kArenaBlock - 1) / 3) {
                size_t cap = units * 3 + 1; /* napi writes a NUL */
                char *p = arena.Take(cap);
                Check(env, napi_get_value_string_utf8(env, v, p, cap, &len));
                arena.Unuse(cap - (len + 1));
                return spikard_str{p, len};
            }
        }
        if (enc == Encoding::kLatin1) {
            Check(env, napi_get_value_string_latin1(env, v, nullptr, 0, &len));
        } else {
            Check(env, napi_get_value_string_utf8(env, v, nullptr, 0, &len));
        }
        if (len == 0) {
            return spikard_str{nullptr, 0};
        }
        char *p = arena.Take(len + 1); /* napi writes a NUL */
        if (enc == Encoding::kLatin1) {
            Check(env, napi_get_value_string_latin1(env, v, p, len + 1, &len));
        } else {
            Check(env, napi_get_value_string_utf8(env, v, p, len + 1, &len));
        }
        return spikard_str{p, len};
    }
    if (t == napi_null || t == napi_undefined) {
        return spikard_str{nullptr, 0};
    }
    bool is_buffer = false;
    Check(env, napi_is_buffer(env, v, &is_buffer));
    if (!is_buffer) {
        TypeError(env, std::string(what) + " must be a string or a Buffer");
    }
    void *data;
    size_t len;
    Check(env, napi_get_buffer_info(env, v, &data, &len));
    return spikard_str{static_cast<const char *>(data), len};
}

/* ------------------------------------------------------------------------
 * JS values from events (copies)
 * ---------------------------------------------------------------------- */

napi_value Utf8(napi_env env, spikard_str s) {
    napi_value v;
    Check(env, napi_create_string_utf8(env, s.ptr ? s.ptr : "", s.len, &v));
    return v;
}

napi_value BufferCopy(napi_env env, spikard_str s) {
    napi_value v;
    Check(env, napi_create_buffer_copy(env, s.len, s.ptr ? s.ptr : "", nullptr, &v));
    return v;
}

/* The request's facts as one JSON text, parsed by lib/ only if the
 * handler reads them: [method, path, query, [header name, value, ...],
 * [cookie name, value, ...], [query name, value, ...], [upload pointer,
 * ...]]. One string per request instead of an array and two strings per
 * header: what a request costs in Node is mostly what it allocates.
 * Latin-1 fields (method, query, headers, cookies: as Node's http reads
 * them) escape bytes >= 0x80 as \u00XX; UTF-8 fields (the percent-decoded
 * path, query pairs, upload pointers) pass them through. */
class FactsText {
  public:
    void Reset() { out_.clear(); }
    const std::string &Text() const { return out_; }

    void Build(const spikard_event &ev) {
        out_.clear();
        out_.push_back('[');
        Latin1(ev.method);
        out_.push_back(',');
        Utf8(ev.path);
        out_.push_back(',');
        Latin1(ev.query);
        out_.push_back(',');
        Pairs(ev.headers, ev.header_count, true);
        out_.push_back(',');
        Pairs(ev.cookies, ev.cookie_count, true);
        out_.push_back(',');
        Pairs(ev.query_pairs, ev.query_pair_count, false);
        out_.append(",[");
        for (size_t i = 0; i < ev.upload_count; i++) {
            if (i > 0) {
                out_.push_back(',');
            }
            Utf8(ev.uploads[i]);
        }
        out_.append("]]");
    }

  private:
    void Pairs(const spikard_pair *pairs, size_t n, bool latin1) {
        out_.push_back('[');
        for (size_t i = 0; i < n; i++) {
            if (i > 0) {
                out_.push_back(',');
            }
            Quoted(pairs[i].name, latin1);
            out_.push_back(',');
            Quoted(pairs[i].value, latin1);
        }
        out_.push_back(']');
    }

    void Latin1(spikard_str s) { Quoted(s, true); }
    void Utf8(spikard_str s) { Quoted(s, false); }

    void Quoted(spikard_str s, bool latin1) {
        static const char hex[] = "0123456789abcdef";
        out_.push_back('"');
        const unsigned char *p = reinterpret_cast<const unsigned char *>(s.ptr);
        for (size_t i = 0; i < s.len; i++) {
            unsigned char c = p[i];
            if (c == '"' || c == '\\') {
                out_.push_back('\\');
                out_.push_back(static_cast<char>(c));
            } else if (c < 0x20 || (latin1 && c >= 0x80)) {
                out_.append("\\u00");
                out_.push_back(hex[c >> 4]);
                out_.push_back(hex[c & 15]);
            } else {
                out_.push_back(static_cast<char>(c));
            }
        }
        out_.push_back('"');
    }

    std::string out_;
};

/* 2^53: exchanges below it are plain numbers (no BigInt to allocate). */
constexpr uint64_t kSafeInteger = 9007199254740992ull;

napi_value ExchangeValue(napi_env env, uint64_t exchange) {
    napi_value v;
    if (exchange < kSafeInteger) {
        Check(env, napi_create_double(env, static_cast<double>(exchange), &v));
    } else {
        Check(env, napi_create_bigint_uint64(env, exchange, &v));
    }
    return v;
}

/* Stride of the flat event array onEvents receives. */
constexpr uint32_t kEventFields = 6;

/* One event's kEventFields values into events at base: a request (and a
 * WebSocket's WS_OPEN, which its route tells apart) is [exchange, route,
 * params, body, facts, attachments] (attachments: the pre phases, a number,
 * on a REQUEST under config "hooks_in_request"), anything else [exchange, route, null,
 * kind, code, data], where data is a WS_MESSAGE's message (a string, or a
 * Buffer for a binary one: the type says which, so no flags cross), a
 * WS_CLOSE's reason (a string), a LOG's batch of access lines (a string),
 * else null. text_body: the route's body is
 * JSON text (it has a body schema), handed over as a string. */
void PutEvent(napi_env env, napi_value events, uint32_t base, const spikard_event &ev,
              bool text_body, FactsText &facts, napi_value null) {
    napi_value v[kEventFields];
    v[0] = ExchangeValue(env, ev.exchange);
    Check(env, napi_create_uint32(env, ev.route, &v[1]));
    if (ev.kind != SPIKARD_EVENT_REQUEST && ev.kind != SPIKARD_EVENT_WS_OPEN) {
        v[2] = null;
        Check(env, napi_create_uint32(env, ev.kind, &v[3]));
        Check(env, napi_create_uint32(env, ev.code, &v[4]));
        if (ev.kind == SPIKARD_EVENT_WS_MESSAGE) {
            /* Text is valid UTF-8: the core checked it (1007 otherwise). */
            v[5] = (ev.flags & SPIKARD_EVENT_F_BINARY) ? BufferCopy(env, ev.body) : Utf8(env, ev.body);
        } else if (ev.kind == SPIKARD_EVENT_WS_CLOSE || ev.kind == SPIKARD_EVENT_LOG) {
            v[5] = Utf8(env, ev.body); /* LOG: a batch of ASCII access lines */
        } else if (ev.kind == SPIKARD_EVENT_HOOK) {
            /* A lifecycle visit (2.3): [params, body, facts], what hooks read. */
            napi_value hook;
            Check(env, napi_create_array_with_length(env, 3, &hook));
            napi_value body = ev.body.len == 0 ? null : BufferCopy(env, ev.body);
            facts.Build(ev);
            Check(env, napi_set_element(env, hook, 0, Utf8(env, ev.params)));
            Check(env, napi_set_element(env, hook, 1, body));
            Check(env, napi_set_element(env, hook, 2, Utf8(env, spikard_str{facts.Text().data(), facts.Text().size()})));
            v[5] = hook;
        } else {
            v[5] = null;
        }
    } else {
        v[2] = ev.params.len == 0 ? Utf8(env, spikard_str{"{}", 2}) : Utf8(env, ev.params);
        if (ev.body.len == 0) {
            v[3] = null;
        } else {
            v[3] = text_body ? Utf8(env, ev.body) : BufferCopy(env, ev.body);
        }
        if (ev.method.len == 0 && ev.path.len == 0 && ev.header_count == 0 && ev.cookie_count == 0 &&
            ev.query_pair_count == 0 && ev.upload_count == 0) {
            v[4] = null;
        } else {
            facts.Build(ev);
            v[4] = Utf8(env, spikard_str{facts.Text().data(), facts.Text().size()});
        }
        if (ev.code != 0) {
            /* 2.3, config "hooks_in_request": a REQUEST carrying the pre
             * phases its hooks still run; it has no attachments (core
             * decoded no body), so their place holds the phases. */
            Check(env, napi_create_uint32(env, ev.code, &v[5]));
        } else {
            v[5] = ev.attachments.len == 0 ? null : BufferCopy(env, ev.attachments);
        }
    }
    for (uint32_t i = 0; i < kEventFields; i++) {
        Check(env, napi_set_element(env, events, base + i, v[i]));
    }
}

/* ------------------------------------------------------------------------
 * App
 * ---------------------------------------------------------------------- */

/* spikard_app_free, off the JS thread when it must stop a running app
 * (that waits for in-flight requests). */
void FreeApp(uv_loop_t *loop, spikard_app *app, bool running) {
    if (!running) {
        spikard_app_free(app);
        return;
    }
    uv_work_t *req = new uv_work_t;
    req->data = app;
    int rc = uv_queue_work(
        loop, req, [](uv_work_t *r) { spikard_app_free(static_cast<spikard_app *>(r->data)); },
        [](uv_work_t *r, int) { delete r; });
    if (rc != 0) {
        delete req;
        spikard_app_free(app);
    }
}

class App : public Napi::ObjectWrap<App> {
  public:
    static Napi::Function Define(Napi::Env env) {
        return DefineClass(env, "App",
                           {
                               InstanceMethod<&App::AddRoute>("addRoute"),
                               InstanceMethod<&App::Start>("start"),
                               InstanceAccessor<&App::Port>("port"),
                               InstanceMethod<&App::Stop>("stop"),
                               InstanceMethod<&App::Respond>("respond"),
                               InstanceMethod<&App::StreamWrite>("streamWrite"),
                               InstanceMethod<&App::WsSubscribe>("wsSubscribe"),
                               InstanceMethod<&App::WsUnsubscribe>("wsUnsubscribe"),
                               InstanceMethod<&App::WsPublish>("wsPublish"),
                               InstanceMethod<&App::Close>("close"),
                           });
    }

    explicit App(const Napi::CallbackInfo &info) : Napi::ObjectWrap<App>(info) {
        Napi::Env env = info.Env();
        data_ = env.GetInstanceData<AddonData>();
        std::string config = Document(env, info[0], "App(configJson): configJson");
        int rc = spikard_app_new(&app_, config.data(), config.size());
        if (rc != SPIKARD_OK) {
            app_ = nullptr;
            throw LastError(env, rc, "spikard_app_new failed");
        }
    }

    ~App() override {
        /* Collected: no poller is open (each holds a reference), no stop
         * runs. At environment teardown the process is going: leak. */
        if (app_ != nullptr && !data_->tearing_down && open_pollers_ == 0 && stopping_ == 0) {
            FreeApp(data_->loop, app_, started_ && !stopped_);
        }
        app_ = nullptr;
    }

    /* The app, or a SpikardError(E_STATE) once closed. */
    spikard_app *Ready(Napi::Env env) {
        if (app_ == nullptr || closing_) {
            throw SpikardError(env, SPIKARD_E_STATE, "the App is closed");
        }
        return app_;
    }

    void PollerOpened() { open_pollers_++; }
    void PollerClosed() { open_pollers_--; }

    /* A close() that came while stop ran frees the app now. */
    void StopDone(bool ok) {
        stopping_--;
        stopped_ = stopped_ || ok;
        if (closing_ && stopping_ == 0 && app_ != nullptr) {
            spikard_app *app = app_;
            app_ = nullptr;
            FreeApp(data_->loop, app, started_ && !stopped_);
        }
    }

  private:
    Napi::Value AddRoute(const Napi::CallbackInfo &info) {
        Napi::Env env = info.Env();
        spikard_app *app = Ready(env);
        std::string route_json = Document(env, info[0], "addRoute(routeJson): routeJson");
        uint32_t route = 0;
        int rc = spikard_app_add_route(&route, app, route_json.data(), route_json.size());
        if (rc != SPIKARD_OK) {
            throw LastError(env, rc, "spikard_app_add_route failed");
        }
        return Napi::Number::New(env, route);
    }

    /* Binding the listener is quick: start runs on the JS thread. */
    Napi::Value Start(const Napi::CallbackInfo &info) {
        Napi::Env env = info.Env();
        int rc = spikard_app_start(Ready(env));
        if (rc != SPIKARD_OK) {
            throw LastError(env, rc, "spikard_app_start failed");
        }
        started_ = true;
        return env.Undefined();
    }

    Napi::Value Port(const Napi::CallbackInfo &info) {
        Napi::Env env = info.Env();
        int port = 0;
        int rc = spikard_app_port(&port, Ready(env));
        if (rc != SPIKARD_OK) {
            throw LastError(env, rc, "the app has not started");
        }
        return Napi::Number::New(env, port);
    }

    Napi::Value Stop(const Napi::CallbackInfo &info);

    /* respond(answers): one spikard_respond for the whole batch. */
    Napi::Value Respond(const Napi::CallbackInfo &info) {
        Napi::Env env = info.Env();
        spikard_app *app = Ready(env);
        napi_value answers = info[0];
        if (!IsArray(env, answers)) {
            TypeError(env, "respond(answers): answers must be an Array");
        }
        uint32_t n = Length(env, answers);
        if (n == 0) {
            return Napi::Boolean::New(env, true);
        }
        Batch batch(this, env);
        responses_.resize(n);
        header_at_.resize(n);
        results_.resize(n);
        pairs_.clear();
        for (uint32_t i = 0; i < n; i++) {
            napi_value item = Element(env, answers, i);
            if (!IsArray(env, item) || Length(env, item) < 5) {
                TypeError(env, "respond(answers): an answer must be "
                               "[exchange, status, headers, body, flags]");
            }
            spikard_response &r = responses_[i];
            r.exchange = Exchange(env, Element(env, item, 0));
            r.status = Uint32(env, Element(env, item, 1), "an answer's status");
            header_at_[i] = pairs_.size();
            napi_value headers = Element(env, item, 2);
            napi_valuetype ht = TypeOf(env, headers);
            if (ht != napi_null && ht != napi_undefined) {
                if (!IsArray(env, headers)) {
                    TypeError(env, "an answer's headers must be an Array of [name, value] or null");
                }
                uint32_t hn = Length(env, headers);
                for (uint32_t j = 0; j < hn; j++) {
                    napi_value pair = Element(env, headers, j);
                    if (!IsArray(env, pair) || Length(env, pair) < 2) {
                        TypeError(env, "a response header must be [name, value]");
                    }
                    spikard_pair p;
                    p.name = Bytes(env, Element(env, pair, 0), Encoding::kLatin1, arena_, "a header name");
                    p.value = Bytes(env, Element(env, pair, 1), Encoding::kLatin1, arena_, "a header value");
                    pairs_.push_back(p);
                }
            }
            r.header_count = pairs_.size() - header_at_[i];
            r.body = Bytes(env, Element(env, item, 3), Encoding::kUtf8, arena_, "an answer's body");
            r.flags = Uint32(env, Element(env, item, 4), "an answer's flags");
        }
        for (uint32_t i = 0; i < n; i++) {
            responses_[i].headers = responses_[i].header_count ? pairs_.data() + header_at_[i] : nullptr;
        }
        int rc = spikard_respond(results_.data(), app, responses_.data(), n, sizeof(spikard_response));
        if (rc == SPIKARD_OK) {
            return Napi::Boolean::New(env, true);
        }
        /* Gone exchanges are normal (timed out, client left); anything else
         * is a bug of the caller's, thrown (its client got the 500). */
        uint32_t first = n, refused = n;
        for (uint32_t i = 0; i < n && refused == n; i++) {
            if (results_[i] != SPIKARD_OK && first == n) {
                first = i;
            }
            if (results_[i] != SPIKARD_OK && results_[i] != SPIKARD_E_NOT_FOUND) {
                refused = i;
            }
        }
        if (refused == n) {
            return Napi::Boolean::New(env, false);
        }
        if (refused == first) {
            throw LastError(env, results_[refused], "spikard_respond refused an answer");
        }
        throw SpikardError(env, results_[refused],
                           "spikard_respond refused answer " + std::to_string(refused) + " of the batch");
    }

    /* streamWrite(chunks) -> Array<number>: timeout 0, never waits. */
    Napi::Value StreamWrite(const Napi::CallbackInfo &info) {
        Napi::Env env = info.Env();
        spikard_app *app = Ready(env);
        napi_value chunks = info[0];
        if (!IsArray(env, chunks)) {
            TypeError(env, "streamWrite(chunks): chunks must be an Array");
        }
        uint32_t n = Length(env, chunks);
        Batch batch(this, env);
        chunks_.assign(n, spikard_chunk{});
        results_.resize(n);
        for (uint32_t i = 0; i < n; i++) {
            napi_value item = Element(env, chunks, i);
            if (!IsArray(env, item) || Length(env, item) < 3) {
                TypeError(env, "streamWrite(chunks): a chunk must be "
                               "[exchange, flags, data, event, id, retryMs, code]");
            }
            spikard_chunk &c = chunks_[i];
            c.exchange = Exchange(env, Element(env, item, 0));
            c.flags = Uint32(env, Element(env, item, 1), "a chunk's flags");
            c.data = Bytes(env, Element(env, item, 2), Encoding::kUtf8, arena_, "a chunk's data");
            c.event = Bytes(env, Element(env, item, 3), Encoding::kUtf8, arena_, "a chunk's event");
            c.id = Bytes(env, Element(env, item, 4), Encoding::kUtf8, arena_, "a chunk's id");
            c.retry_ms = Uint32(env, Element(env, item, 5), "a chunk's retryMs", true);
            c.code = Uint32(env, Element(env, item, 6), "a chunk's code", true);
        }
        if (n > 0) {
            (void)spikard_stream_write(results_.data(), app, chunks_.data(), n, sizeof(spikard_chunk), 0);
        }
        Napi::Array out = Napi::Array::New(env, n);
        for (uint32_t i = 0; i < n; i++) {
            out.Set(i, Napi::Number::New(env, results_[i]));
        }
        return out;
    }

    /* wsSubscribe(exchange, channel) -> boolean: false once the WebSocket
     * is over (SPIKARD_E_NOT_FOUND); other failures throw. */
    Napi::Value WsSubscribe(const Napi::CallbackInfo &info) {
        return Subscription(info, spikard_ws_subscribe, "wsSubscribe(exchange, channel): channel",
                            "spikard_ws_subscribe failed");
    }

    /* wsUnsubscribe(exchange, channel) -> boolean, as wsSubscribe. */
    Napi::Value WsUnsubscribe(const Napi::CallbackInfo &info) {
        return Subscription(info, spikard_ws_unsubscribe, "wsUnsubscribe(exchange, channel): channel",
                            "spikard_ws_unsubscribe failed");
    }

    Napi::Value Subscription(const Napi::CallbackInfo &info,
                             int (*call)(spikard_app *, uint64_t, const char *, size_t), const char *what,
                             const char *failed) {
        Napi::Env env = info.Env();
        spikard_app *app = Ready(env);
        uint64_t exchange = Exchange(env, info[0]);
        Batch batch(this, env);
        spikard_str channel = Bytes(env, info[1], Encoding::kUtf8, arena_, what);
        int rc = call(app, exchange, channel.ptr, channel.len);
        if (rc == SPIKARD_E_NOT_FOUND) {
            return Napi::Boolean::New(env, false);
        }
        if (rc != SPIKARD_OK) {
            throw LastError(env, rc, failed);
        }
        return Napi::Boolean::New(env, true);
    }

    /* wsPublish(channel, flags, data) -> number: OK, or E_AGAIN when the
     * queue for Redis is full (nothing queued, no event follows); other
     * failures throw. Never blocks. */
    Napi::Value WsPublish(const Napi::CallbackInfo &info) {
        Napi::Env env = info.Env();
        spikard_app *app = Ready(env);
        Batch batch(this, env); /* the strings go into the batch arena */
        spikard_str channel =
            Bytes(env, info[0], Encoding::kUtf8, arena_, "wsPublish(channel, flags, data): channel");
        uint32_t flags = Uint32(env, info[1], "wsPublish(channel, flags, data): flags");
        spikard_str data = Bytes(env, info[2], Encoding::kUtf8, arena_, "wsPublish(channel, flags, data): data");
        int rc = spikard_ws_publish(app, channel.ptr, channel.len, flags, data.ptr, data.len);
        if (rc != SPIKARD_OK && rc != SPIKARD_E_AGAIN) {
            throw LastError(env, rc, "spikard_ws_publish failed");
        }
        return Napi::Number::New(env, rc);
    }

    /* close(): free the app; refused while a poller is open. During a
     * stop the app is freed once the stop has finished; an app still
     * running is stopped and freed on a libuv worker thread
     * (spikard_app_free waits for in-flight requests). */
    Napi::Value Close(const Napi::CallbackInfo &info) {
        Napi::Env env = info.Env();
        if (app_ == nullptr || closing_) {
            return env.Undefined();
        }
        if (open_pollers_ > 0) {
            throw SpikardError(env, SPIKARD_E_STATE,
                               "App.close: " + std::to_string(open_pollers_) +
                                   " poller(s) still open; close them first");
        }
        if (stopping_ > 0) {
            closing_ = true;
            return env.Undefined();
        }
        spikard_app *app = app_;
        app_ = nullptr;
        FreeApp(data_->loop, app, started_ && !stopped_);
        return env.Undefined();
    }

    /* The scratch vectors of one respond/streamWrite/ws* call; a getter
     * that called back in would overwrite them, so that is refused. */
    class Batch {
      public:
        Batch(App *app, Napi::Env env) : app_(app) {
            if (app->busy_) {
                throw SpikardError(env, SPIKARD_E_STATE, "respond/streamWrite called from inside itself");
            }
            app->busy_ = true;
        }
        ~Batch() {
            app_->busy_ = false;
            app_->arena_.Reset();
        }

      private:
        App *app_;
    };

    AddonData *data_ = nullptr;
    spikard_app *app_ = nullptr;
    int open_pollers_ = 0;
    int stopping_ = 0;
    bool started_ = false;
    bool stopped_ = false;
    bool closing_ = false; /* close() came during a stop */
    bool busy_ = false;
    Arena arena_;
    std::vector<spikard_response> responses_;
    std::vector<size_t> header_at_;
    std::vector<spikard_pair> pairs_;
    std::vector<spikard_chunk> chunks_;
    std::vector<int> results_;

    friend class Poller;
};

/* spikard_app_stop on libuv's worker pool; settles a Promise. It holds the
 * App object so that it cannot be collected meanwhile. */
class StopWorker : public Napi::AsyncWorker {
  public:
    StopWorker(Napi::Env env, App *app, spikard_app *sapp, Napi::Object self, int timeout_ms)
        : Napi::AsyncWorker(env, "spikard:stop"), deferred_(Napi::Promise::Deferred::New(env)), app_(app),
          sapp_(sapp), self_(Napi::Persistent(self)), timeout_ms_(timeout_ms) {}

    Napi::Promise Promise() const { return deferred_.Promise(); }

    void Execute() override {
        rc_ = spikard_app_stop(sapp_, timeout_ms_);
        if (rc_ != SPIKARD_OK) {
            const char *m = spikard_last_error(); /* this worker thread's */
            message_ = (m == nullptr || *m == '\0') ? "spikard_app_stop failed" : m;
        }
    }

    void OnOK() override {
        Napi::Env env = Env();
        app_->StopDone(rc_ == SPIKARD_OK);
        if (rc_ == SPIKARD_OK) {
            deferred_.Resolve(env.Undefined());
        } else {
            deferred_.Reject(SpikardError(env, rc_, message_).Value());
        }
    }

  private:
    Napi::Promise::Deferred deferred_;
    App *app_;
    spikard_app *sapp_;
    Napi::ObjectReference self_;
    int timeout_ms_;
    int rc_ = SPIKARD_OK;
    std::string message_;
};

/* stop(timeoutMs = -1) -> Promise<void>: never blocks the JS thread. */
Napi::Value App::Stop(const Napi::CallbackInfo &info) {
    Napi::Env env = info.Env();
    spikard_app *app = Ready(env);
    int timeout_ms = -1;
    if (info.Length() > 0 && !info[0].IsUndefined()) {
        if (!info[0].IsNumber()) {
            TypeError(env, "stop(timeoutMs): timeoutMs must be a number");
        }
        timeout_ms = info[0].As<Napi::Number>().Int32Value();
    }
    StopWorker *worker = new StopWorker(env, this, app, info.This().As<Napi::Object>(), timeout_ms);
    Napi::Promise promise = worker->Promise();
    worker->Queue();
    stopping_++;
    return promise;
}

/* ------------------------------------------------------------------------
 * Poller
 * ---------------------------------------------------------------------- */

class Poller : public Napi::ObjectWrap<Poller> {
  public:
    static Napi::Function Define(Napi::Env env) {
        return DefineClass(env, "Poller", {InstanceMethod<&Poller::Close>("close")});
    }

    /* Poller(app, lane, onEvents): everything that may throw comes before
     * anything that must be undone. */
    explicit Poller(const Napi::CallbackInfo &info) : Napi::ObjectWrap<Poller>(info) {
        Napi::Env env = info.Env();
        data_ = env.GetInstanceData<AddonData>();
        if (!info[0].IsObject() || !info[0].As<Napi::Object>().InstanceOf(data_->app_ctor.Value())) {
            TypeError(env, "Poller(app, lane, onEvents): app must be an App");
        }
        uint32_t lane = Uint32(env, info[1], "Poller(app, lane, onEvents): lane");
        if (!info[2].IsFunction()) {
            TypeError(env, "Poller(app, lane, onEvents): onEvents must be a function");
        }
        if (info.Length() > 3 && !info[3].IsUndefined()) {
            if (!info[3].IsArray()) {
                TypeError(env, "Poller(app, lane, onEvents, textBodies): textBodies must be an Array of route ids");
            }
            Napi::Array ids = info[3].As<Napi::Array>();
            for (uint32_t i = 0; i < ids.Length(); i++) {
                uint32_t id = Uint32(env, ids.Get(i), "a textBodies route id");
                if (id >= text_body_.size()) {
                    text_body_.resize(id + 1, false);
                }
                text_body_[id] = true;
            }
        }
        Napi::Object app_obj = info[0].As<Napi::Object>();
        App *app = App::Unwrap(app_obj);
        int rc = spikard_poller_new(&poller_, app->Ready(env), lane);
        if (rc != SPIKARD_OK) {
            poller_ = nullptr;
            throw LastError(env, rc, "spikard_poller_new failed");
        }
        int fd = -1;
        rc = spikard_poller_fd(&fd, poller_);
        if (rc != SPIKARD_OK) {
            Napi::Error err = LastError(env, rc, "spikard_poller_fd failed");
            spikard_poller_free(poller_);
            poller_ = nullptr;
            throw err;
        }
        handle_ = new uv_poll_t;
        int uv = uv_poll_init(data_->loop, handle_, fd);
        if (uv == 0) {
            handle_->data = this;
            uv = uv_poll_start(handle_, UV_READABLE, OnReadable);
            if (uv != 0) {
                uv_close(reinterpret_cast<uv_handle_t *>(handle_), OnHandleClosed);
            }
        } else {
            delete handle_;
        }
        if (uv != 0) {
            handle_ = nullptr;
            spikard_poller_free(poller_);
            poller_ = nullptr;
            throw Napi::Error::New(env, std::string("uv_poll on the poller's fd: ") + uv_strerror(uv));
        }
        events_.resize(kBatch);
        app_ = app;
        app_ref_ = Napi::Persistent(app_obj);
        app->PollerOpened();
        on_events_ = Napi::Persistent(info[2].As<Napi::Function>());
        context_.reset(new Napi::AsyncContext(env, "spikard:Poller", Value()));
        data_->pollers.insert(this);
        Ref(); /* serving: not collectable until closed */
    }

    ~Poller() override {
        /* Only at teardown can an open poller be destroyed (it holds
         * itself); its App may be gone already, so it is not touched. */
        if (poller_ != nullptr) {
            uv_poll_stop(handle_);
            handle_->data = nullptr;
            uv_close(reinterpret_cast<uv_handle_t *>(handle_), OnHandleClosed);
            spikard_poller_free(poller_);
            poller_ = nullptr;
        }
        data_->pollers.erase(this);
    }

    /* Stop the uv_poll_t, free the poller, drop the references. Idempotent.
     * Inside onEvents the callback and its async context stay until the
     * call returns. */
    void Release() {
        if (poller_ == nullptr) {
            return;
        }
        /* uv_poll_stop takes the fd out of epoll, so freeing the poller
         * (which closes the fd) is safe before the handle has closed. */
        uv_poll_stop(handle_);
        handle_->data = nullptr;
        uv_close(reinterpret_cast<uv_handle_t *>(handle_), OnHandleClosed);
        handle_ = nullptr;
        spikard_poller_free(poller_);
        poller_ = nullptr;
        app_->PollerClosed();
        app_ = nullptr;
        app_ref_.Reset();
        data_->pollers.erase(this);
        if (!in_callback_) {
            on_events_.Reset();
            context_.reset();
        }
        Unref();
    }

  private:
    Napi::Value Close(const Napi::CallbackInfo &info) {
        Release();
        return info.Env().Undefined();
    }

    static void OnHandleClosed(uv_handle_t *handle) { delete reinterpret_cast<uv_poll_t *>(handle); }

    static void OnReadable(uv_poll_t *handle, int /*status*/, int /*events*/) {
        Poller *p = static_cast<Poller *>(handle->data);
        if (p == nullptr) {
            return;
        }
        Napi::Env env = p->Env();
        Napi::HandleScope scope(env);
        try {
            p->Drain();
        } catch (const Napi::Error &e) {
            /* No C++ exception may leave a libuv callback. */
            napi_fatal_exception(env, e.Value());
        }
    }

    /* Poll with timeout 0 until a poll returns fewer than asked for (only
     * then does the poller count as waiting again), one onEvents call per
     * non-empty batch. */
    void Drain() {
        Napi::Env env = Env();
        Napi::Object self = Value(); /* alive through the callbacks */
        (void)self;
        while (poller_ != nullptr) {
            size_t count = 0;
            int rc = spikard_poller_poll(&count, poller_, events_.data(), events_.size(),
                                         sizeof(spikard_event), 0);
            if (rc == SPIKARD_E_CLOSED) {
                Finish(env);
                return;
            }
            if (rc != SPIKARD_OK) {
                /* Not expected from a zero-timeout poll: report it and end
                 * the lane as if closed, rather than spin on a ready fd. */
                Napi::Error err = LastError(env, rc, "spikard_poller_poll failed");
                napi_fatal_exception(env, err.Value());
                Finish(env);
                return;
            }
            if (count > 0) {
                Napi::HandleScope batch(env);
                napi_value events;
                try {
                    napi_value null = env.Null();
                    Check(env, napi_create_array_with_length(env, count * kEventFields, &events));
                    for (size_t i = 0; i < count; i++) {
                        const spikard_event &ev = events_[i];
                        bool text = ev.route < text_body_.size() && text_body_[ev.route];
                        PutEvent(env, events, static_cast<uint32_t>(i) * kEventFields, ev, text, facts_,
                                 null);
                    }
                } catch (const Napi::Error &e) {
                    napi_fatal_exception(env, e.Value());
                    continue;
                }
                Deliver(env, events);
            }
            if (count < events_.size()) {
                return;
            }
        }
    }

    /* The lane is over: release first (so onEvents may close the App),
     * then onEvents(null), once. */
    void Finish(Napi::Env env) {
        in_callback_ = true;
        Release();
        in_callback_ = false;
        Deliver(env, env.Null());
    }

    /* onEvents(arg) through napi_make_callback, so that microtasks and
     * nextTicks run after it (its receiver must be an object: globalThis);
     * a throw goes to 'uncaughtException'. */
    void Deliver(Napi::Env env, napi_value arg) {
        if (on_events_.IsEmpty()) {
            return;
        }
        in_callback_ = true;
        napi_value result;
        napi_status st = napi_make_callback(env, *context_, env.Global(), on_events_.Value(), 1, &arg,
                                            &result);
        in_callback_ = false;
        if (st != napi_ok) {
            bool pending = false;
            napi_is_exception_pending(env, &pending);
            if (pending) {
                napi_value exc;
                napi_get_and_clear_last_exception(env, &exc);
                napi_fatal_exception(env, exc);
            }
        }
        if (poller_ == nullptr) {
            /* Closed in the callback, or before it (Finish). */
            on_events_.Reset();
            context_.reset();
        }
    }

    AddonData *data_ = nullptr;
    App *app_ = nullptr;
    Napi::ObjectReference app_ref_;
    Napi::FunctionReference on_events_;
    std::unique_ptr<Napi::AsyncContext> context_;
    spikard_poller *poller_ = nullptr;
    uv_poll_t *handle_ = nullptr;
    std::vector<spikard_event> events_;
    std::vector<bool> text_body_; /* by route id: the body is JSON text */
    FactsText facts_;
    bool in_callback_ = false;
};

/* ------------------------------------------------------------------------
 * Supervisor
 * ---------------------------------------------------------------------- */

/* Strings of a JS Array, UTF-8, with the NULL-terminated pointer array
 * spikard_supervise takes (valid while the Strings lives). */
class Strings {
  public:
    Strings(napi_env env, napi_value array, const char *what) {
        if (!IsArray(env, array)) {
            TypeError(env, std::string(what) + " must be an Array of strings");
        }
        uint32_t n = Length(env, array);
        items_.reserve(n);
        for (uint32_t i = 0; i < n; i++) {
            napi_value v = Element(env, array, i);
            if (TypeOf(env, v) != napi_string) {
                TypeError(env, std::string(what) + " must be an Array of strings");
            }
            items_.push_back(Document(env, v, what));
        }
        for (const std::string &s : items_) {
            ptrs_.push_back(s.c_str());
        }
        ptrs_.push_back(nullptr);
    }

    const char *const *Get() const { return ptrs_.data(); }

  private:
    std::vector<std::string> items_;
    std::vector<const char *> ptrs_;
};

class Supervisor : public Napi::ObjectWrap<Supervisor> {
  public:
    static Napi::Function Define(Napi::Env env) {
        return DefineClass(env, "Supervisor",
                           {
                               InstanceAccessor<&Supervisor::Port>("port"),
                               InstanceMethod<&Supervisor::Wait>("wait"),
                               InstanceMethod<&Supervisor::Signal>("signal"),
                               InstanceMethod<&Supervisor::Close>("close"),
                           });
    }

    /* Supervisor(argv, optionsJson, env = null): spawning is a fork and an
     * exec per worker, quick, so it runs on the JS thread (as App.start). */
    explicit Supervisor(const Napi::CallbackInfo &info) : Napi::ObjectWrap<Supervisor>(info) {
        Napi::Env env = info.Env();
        data_ = env.GetInstanceData<AddonData>();
        Strings argv(env, info[0], "Supervisor(argv, optionsJson, env): argv");
        std::string options = Document(env, info[1], "Supervisor(argv, optionsJson, env): optionsJson");
        std::unique_ptr<Strings> envp;
        if (!info[2].IsUndefined() && !info[2].IsNull()) {
            envp.reset(new Strings(env, info[2], "Supervisor(argv, optionsJson, env): env"));
        }
        int rc = spikard_supervise(&sup_, argv.Get(), envp ? envp->Get() : nullptr, options.data(),
                                   options.size());
        if (rc != SPIKARD_OK) {
            sup_ = nullptr;
            throw LastError(env, rc, "spikard_supervise failed");
        }
    }

    /* Collected: no wait runs (it holds a reference). Freeing before the
     * end kills the workers and waits for them: off the JS thread. At
     * environment teardown the process is going, and on Linux the kernel
     * sends each worker SIGTERM: leak. */
    ~Supervisor() override {
        if (sup_ != nullptr && !data_->tearing_down) {
            Free(data_->loop, sup_);
        }
        sup_ = nullptr;
    }

  private:
    static void Free(uv_loop_t *loop, spikard_supervisor *sup) {
        uv_work_t *req = new uv_work_t;
        req->data = sup;
        int rc = uv_queue_work(
            loop, req,
            [](uv_work_t *r) { spikard_supervisor_free(static_cast<spikard_supervisor *>(r->data)); },
            [](uv_work_t *r, int) { delete r; });
        if (rc != 0) {
            delete req;
            spikard_supervisor_free(sup);
        }
    }

    spikard_supervisor *Ready(Napi::Env env) {
        if (sup_ == nullptr) {
            throw SpikardError(env, SPIKARD_E_STATE, "the Supervisor is closed");
        }
        return sup_;
    }

    Napi::Value Port(const Napi::CallbackInfo &info) {
        Napi::Env env = info.Env();
        int port = 0;
        int rc = spikard_supervisor_port(&port, Ready(env));
        if (rc != SPIKARD_OK) {
            throw LastError(env, rc, "spikard_supervisor_port failed");
        }
        return Napi::Number::New(env, port);
    }

    Napi::Value Wait(const Napi::CallbackInfo &info);

    /* signal(signo): async-signal-safe in C, so cheap here; it sets no
     * spikard_last_error, so the messages are ours. */
    Napi::Value Signal(const Napi::CallbackInfo &info) {
        Napi::Env env = info.Env();
        if (!info[0].IsNumber()) {
            TypeError(env, "signal(signo): signo must be a number");
        }
        int rc = spikard_supervisor_signal(Ready(env), info[0].As<Napi::Number>().Int32Value());
        if (rc == SPIKARD_E_UNSUPPORTED) {
            throw SpikardError(env, rc, "SIGHUP (reload) is not supported");
        }
        if (rc != SPIKARD_OK) {
            throw SpikardError(env, rc, "only SIGINT and SIGTERM can be passed on");
        }
        return env.Undefined();
    }

    /* close(): free the supervisor (idempotent); refused while a wait runs.
     * After the end it is quick; before, it kills the workers and waits
     * for them on a libuv worker thread. */
    Napi::Value Close(const Napi::CallbackInfo &info) {
        Napi::Env env = info.Env();
        if (waiting_) {
            throw SpikardError(env, SPIKARD_E_STATE, "Supervisor.close: a wait is running");
        }
        if (sup_ != nullptr) {
            spikard_supervisor *sup = sup_;
            sup_ = nullptr;
            if (ended_) {
                spikard_supervisor_free(sup);
            } else {
                Free(data_->loop, sup);
            }
        }
        return env.Undefined();
    }

    AddonData *data_ = nullptr;
    spikard_supervisor *sup_ = nullptr;
    bool waiting_ = false;
    bool ended_ = false; /* a wait reported the end */

    friend class WaitWorker;
};

/* spikard_supervisor_wait on libuv's worker pool; settles a Promise with
 * the status, null on timeout, or a SpikardError (E_WORKER: with .status).
 * It holds the Supervisor object so that it cannot be collected meanwhile. */
class WaitWorker : public Napi::AsyncWorker {
  public:
    WaitWorker(Napi::Env env, Supervisor *owner, spikard_supervisor *sup, Napi::Object self, int timeout_ms)
        : Napi::AsyncWorker(env, "spikard:wait"), deferred_(Napi::Promise::Deferred::New(env)),
          owner_(owner), sup_(sup), self_(Napi::Persistent(self)), timeout_ms_(timeout_ms) {}

    Napi::Promise Promise() const { return deferred_.Promise(); }

    void Execute() override {
        rc_ = spikard_supervisor_wait(&done_, &status_, sup_, timeout_ms_);
        if (rc_ != SPIKARD_OK) {
            const char *m = spikard_last_error(); /* this worker thread's */
            message_ = (m == nullptr || *m == '\0') ? "spikard_supervisor_wait failed" : m;
        }
    }

    void OnOK() override {
        Napi::Env env = Env();
        owner_->waiting_ = false;
        owner_->ended_ = owner_->ended_ || done_ != 0;
        if (rc_ == SPIKARD_OK) {
            deferred_.Resolve(done_ ? Napi::Number::New(env, status_) : env.Null());
            return;
        }
        Napi::Object err = SpikardError(env, rc_, message_).Value();
        if (done_) {
            err.Set("status", Napi::Number::New(env, status_));
        }
        deferred_.Reject(err);
    }

  private:
    Napi::Promise::Deferred deferred_;
    Supervisor *owner_;
    spikard_supervisor *sup_;
    Napi::ObjectReference self_;
    int timeout_ms_;
    int rc_ = SPIKARD_OK;
    int done_ = 0;
    int status_ = 0;
    std::string message_;
};

/* wait(timeoutMs = -1) -> Promise<number | null>: never blocks the JS
 * thread; one at a time. */
Napi::Value Supervisor::Wait(const Napi::CallbackInfo &info) {
    Napi::Env env = info.Env();
    spikard_supervisor *sup = Ready(env);
    int timeout_ms = -1;
    if (info.Length() > 0 && !info[0].IsUndefined()) {
        if (!info[0].IsNumber()) {
            TypeError(env, "wait(timeoutMs): timeoutMs must be a number");
        }
        timeout_ms = info[0].As<Napi::Number>().Int32Value();
    }
    if (waiting_) {
        throw SpikardError(env, SPIKARD_E_STATE, "Supervisor.wait: a wait is running already");
    }
    WaitWorker *worker = new WaitWorker(env, this, sup, info.This().As<Napi::Object>(), timeout_ms);
    Napi::Promise promise = worker->Promise();
    worker->Queue();
    waiting_ = true;
    return promise;
}

/* ------------------------------------------------------------------------
 * Module
 * ---------------------------------------------------------------------- */

Napi::Value CheckConfig(const Napi::CallbackInfo &info) {
    Napi::Env env = info.Env();
    std::string config = Document(env, info[0], "checkConfig(json): json");
    int rc = spikard_config_check(config.data(), config.size());
    if (rc != SPIKARD_OK) {
        throw LastError(env, rc, "spikard_config_check failed");
    }
    return env.Undefined();
}

Napi::Value CheckSupervise(const Napi::CallbackInfo &info) {
    Napi::Env env = info.Env();
    std::string options = Document(env, info[0], "checkSupervise(json): json");
    int rc = spikard_supervise_check(options.data(), options.size());
    if (rc != SPIKARD_OK) {
        throw LastError(env, rc, "spikard_supervise_check failed");
    }
    return env.Undefined();
}

Napi::Value WorkerIndex(const Napi::CallbackInfo &info) {
    Napi::Env env = info.Env();
    int index = 0;
    int rc = spikard_worker_index(&index);
    if (rc == SPIKARD_E_NOT_FOUND) {
        return env.Null();
    }
    if (rc != SPIKARD_OK) {
        throw LastError(env, rc, "spikard_worker_index failed");
    }
    return Napi::Number::New(env, index);
}

Napi::Value SignalOnstack(const Napi::CallbackInfo &info) {
    Napi::Env env = info.Env();
    if (!info[0].IsNumber()) {
        TypeError(env, "signalOnstack(signo): signo must be a number");
    }
    int rc = spikard_signal_onstack(info[0].As<Napi::Number>().Int32Value());
    if (rc != SPIKARD_OK) {
        throw LastError(env, rc, "spikard_signal_onstack: not a signal number");
    }
    return env.Undefined();
}

Napi::Object Constants(Napi::Env env) {
    Napi::Object c = Napi::Object::New(env);
    struct {
        const char *name;
        int64_t value;
    } table[] = {
        {"ABI_VERSION", SPIKARD_ABI_VERSION},
        {"OK", SPIKARD_OK},
        {"E_INVALID", SPIKARD_E_INVALID},
        {"E_STATE", SPIKARD_E_STATE},
        {"E_IO", SPIKARD_E_IO},
        {"E_NOT_FOUND", SPIKARD_E_NOT_FOUND},
        {"E_UNSUPPORTED", SPIKARD_E_UNSUPPORTED},
        {"E_INTERNAL", SPIKARD_E_INTERNAL},
        {"E_CLOSED", SPIKARD_E_CLOSED},
        {"E_AGAIN", SPIKARD_E_AGAIN},
        {"E_WORKER", SPIKARD_E_WORKER},
        {"EVENT_REQUEST", SPIKARD_EVENT_REQUEST},
        {"EVENT_DISCONNECT", SPIKARD_EVENT_DISCONNECT},
        {"EVENT_WRITTEN", SPIKARD_EVENT_WRITTEN},
        {"EVENT_STREAM_CREDIT", SPIKARD_EVENT_STREAM_CREDIT},
        {"EVENT_WS_OPEN", SPIKARD_EVENT_WS_OPEN},
        {"EVENT_WS_MESSAGE", SPIKARD_EVENT_WS_MESSAGE},
        {"EVENT_WS_CLOSE", SPIKARD_EVENT_WS_CLOSE},
        {"EVENT_LOG", SPIKARD_EVENT_LOG},
        {"EVENT_HOOK", SPIKARD_EVENT_HOOK},
        {"RESPONSE_CONTINUE", SPIKARD_RESPONSE_CONTINUE},
        {"HOOK_ON_REQUEST", SPIKARD_HOOK_ON_REQUEST},
        {"HOOK_PRE_VALIDATION", SPIKARD_HOOK_PRE_VALIDATION},
        {"HOOK_PRE_HANDLER", SPIKARD_HOOK_PRE_HANDLER},
        {"HOOK_ON_RESPONSE", SPIKARD_HOOK_ON_RESPONSE},
        {"HOOK_ON_ERROR", SPIKARD_HOOK_ON_ERROR},
        {"NO_ROUTE", SPIKARD_NO_ROUTE},
        {"EVENT_F_BINARY", SPIKARD_EVENT_F_BINARY},
        {"GONE_CLIENT", SPIKARD_GONE_CLIENT},
        {"GONE_TIMEOUT", SPIKARD_GONE_TIMEOUT},
        {"GONE_STOPPING", SPIKARD_GONE_STOPPING},
        {"GONE_STALLED", SPIKARD_GONE_STALLED},
        {"GONE_ABORTED", SPIKARD_GONE_ABORTED},
        {"RESPONSE_HANDLER_ERROR", SPIKARD_RESPONSE_HANDLER_ERROR},
        {"RESPONSE_PROBLEM", SPIKARD_RESPONSE_PROBLEM},
        {"RESPONSE_STREAM", SPIKARD_RESPONSE_STREAM},
        {"RESPONSE_SSE", SPIKARD_RESPONSE_SSE},
        {"RESPONSE_WRITTEN", SPIKARD_RESPONSE_WRITTEN},
        {"RESPONSE_WS_ACCEPT", SPIKARD_RESPONSE_WS_ACCEPT},
        {"RESPONSE_FILE", SPIKARD_RESPONSE_FILE},
        {"CHUNK_END", SPIKARD_CHUNK_END},
        {"CHUNK_ABORT", SPIKARD_CHUNK_ABORT},
        {"CHUNK_WS_BINARY", SPIKARD_CHUNK_WS_BINARY},
        {"CHUNK_WS_CLOSE", SPIKARD_CHUNK_WS_CLOSE},
    };
    for (const auto &entry : table) {
        c.Set(entry.name, Napi::Number::New(env, static_cast<double>(entry.value)));
    }
    c.Freeze();
    return c;
}

Napi::Object Init(Napi::Env env, Napi::Object exports) {
    /* Same major, and at least the minor built against: this addon calls
     * the functions that minor added. */
    int loaded = spikard_abi_version();
    if (SPIKARD_ABI_MAJOR(loaded) != SPIKARD_ABI_MAJOR(SPIKARD_ABI_VERSION) || loaded < SPIKARD_ABI_VERSION) {
        throw Napi::Error::New(env, "libspikard ABI version " + std::to_string(loaded) +
                                        " does not match the version this addon was built for (" +
                                        std::to_string(SPIKARD_ABI_VERSION) + "); rebuild @spikard/node");
    }
    AddonData *data = new AddonData();
    env.SetInstanceData(data);
    Check(env, napi_get_uv_event_loop(env, &data->loop));

    /* Runs before the environment finalizes its objects: close every open
     * poller while its App is certainly alive, and leak the apps (the
     * process or worker is ending; freeing one could wait for requests). */
    env.AddCleanupHook([data]() {
        data->tearing_down = true;
        std::vector<Poller *> open(data->pollers.begin(), data->pollers.end());
        for (Poller *p : open) {
            p->Release();
        }
    });

    Napi::Function error_ctor = env.RunScript(kErrorClass).As<Napi::Function>();
    data->error_ctor = Napi::Persistent(error_ctor);
    Napi::Function app_ctor = App::Define(env);
    data->app_ctor = Napi::Persistent(app_ctor);

    exports.Set("abiVersion", Napi::Number::New(env, loaded));
    exports.Set("constants", Constants(env));
    exports.Set("checkConfig", Napi::Function::New<CheckConfig>(env, "checkConfig"));
    exports.Set("checkSupervise", Napi::Function::New<CheckSupervise>(env, "checkSupervise"));
    exports.Set("workerIndex", Napi::Function::New<WorkerIndex>(env, "workerIndex"));
    exports.Set("signalOnstack", Napi::Function::New<SignalOnstack>(env, "signalOnstack"));
    exports.Set("App", app_ctor);
    exports.Set("Poller", Poller::Define(env));
    exports.Set("Supervisor", Supervisor::Define(env));
    exports.Set("SpikardError", error_ctor);
    return exports;
}

} // namespace

NODE_API_MODULE(spikard, Init)
