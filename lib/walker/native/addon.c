/*
 * Node-API binding of the walker engine (walker/native.ts is its only caller):
 *
 *   createEngine() → engine                 threads start lazily and are kept for the engine's next walks
 *   start(engine, options, onBatch) → {dev, ino}   opens the root now (errors throw with .code), walks in threads
 *   stop(engine)                            the walk stops soon; onBatch(null, true, null) follows
 *   close(engine)                           ends an idle engine's threads
 *
 * onBatch(buffer | null, final, error | null) runs on the JavaScript thread through a thread-safe function with
 * a short queue, so a slow consumer holds the emitter back (bounded memory) and the event loop is never blocked
 * by the walk.
 */
#include "walker.h"

#include <errno.h>
#include <node_api.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define CHECK(env, call)                                                                                        \
  do {                                                                                                         \
    if ((call) != napi_ok) {                                                                                   \
      napi_throw_error((env), NULL, "xfc walker: Node-API call failed: " #call);                               \
      return NULL;                                                                                             \
    }                                                                                                          \
  } while (0)

struct message {
  char *buf;
  size_t len;
  int final;
  char error[128];
};

struct js_walk {
  napi_threadsafe_function tsfn;
};

static void free_buffer(napi_env env, void *data, void *hint) {
  (void)env;
  (void)hint;
  free(data);
}

/** On the JavaScript thread: one batch (or the final message) to the walk's callback. */
static void call_js(napi_env env, napi_value callback, void *context, void *data) {
  (void)context;
  struct message *m = data;
  if (env == NULL) {
    free(m->buf);
    free(m);
    return;
  }
  napi_value args[3];
  napi_value undefined;
  napi_get_undefined(env, &undefined);
  napi_get_null(env, &args[0]);
  if (m->buf != NULL && m->len > 0) {
    if (napi_create_external_buffer(env, m->len, m->buf, free_buffer, NULL, &args[0]) != napi_ok) {
      /* External buffers may be disallowed (a sandboxed build): copy instead. */
      void *copy = NULL;
      napi_create_buffer_copy(env, m->len, m->buf, &copy, &args[0]);
      free(m->buf);
    }
  } else {
    free(m->buf);
  }
  napi_get_boolean(env, m->final != 0, &args[1]);
  if (m->error[0] != '\0') napi_create_string_utf8(env, m->error, NAPI_AUTO_LENGTH, &args[2]);
  else napi_get_null(env, &args[2]);
  free(m);
  napi_call_function(env, undefined, callback, 3, args, NULL);
}

/** From the emitter thread: queues a message; blocks while JavaScript has two unread (backpressure). */
static void deliver(void *ctx, char *buf, size_t len, int final, const char *error) {
  struct js_walk *jw = ctx;
  struct message *m = calloc(1, sizeof(*m));
  if (m == NULL) {
    free(buf);
    if (!final) return;
  } else {
    m->buf = buf;
    m->len = len;
    m->final = final;
    if (error != NULL) strncpy(m->error, error, sizeof(m->error) - 1);
    if (napi_call_threadsafe_function(jw->tsfn, m, napi_tsfn_blocking) != napi_ok) {
      free(m->buf);
      free(m);
    }
  }
  if (final) napi_release_threadsafe_function(jw->tsfn, napi_tsfn_release);
}

static void finalize_js_walk(napi_env env, void *data, void *hint) {
  (void)env;
  (void)hint;
  free(data);
}

/** What the engine external holds: the engine until close() (after which the finalizer has nothing to do). */
struct holder {
  struct engine *engine;
};

static void finalize_engine(napi_env env, void *data, void *hint) {
  (void)env;
  (void)hint;
  struct holder *h = data;
  if (h->engine != NULL) engine_close(h->engine);
  free(h);
}

static napi_value throw_errno(napi_env env, int err, const char *what) {
  char code[CODE_LEN];
  errno_code(err, code);
  napi_value message, code_value, error;
  char text[256];
  snprintf(text, sizeof(text), "%s: %s", what, strerror(err));
  napi_create_string_utf8(env, text, NAPI_AUTO_LENGTH, &message);
  napi_create_string_utf8(env, code, NAPI_AUTO_LENGTH, &code_value);
  napi_create_error(env, code_value, message, &error);
  napi_set_named_property(env, error, "code", code_value);
  napi_throw(env, error);
  return NULL;
}

/** A copy of a Buffer's bytes, NUL-terminated. */
static char *buffer_copy(napi_env env, napi_value value, size_t *len) {
  void *data;
  bool is_buffer = false;
  if (napi_is_buffer(env, value, &is_buffer) != napi_ok || !is_buffer) return NULL;
  if (napi_get_buffer_info(env, value, &data, len) != napi_ok) return NULL;
  char *copy = malloc(*len + 1);
  if (copy == NULL) return NULL;
  memcpy(copy, data, *len);
  copy[*len] = '\0';
  return copy;
}

static int get_property(napi_env env, napi_value object, const char *name, napi_value *out) {
  bool has = false;
  if (napi_has_named_property(env, object, name, &has) != napi_ok || !has) return 0;
  if (napi_get_named_property(env, object, name, out) != napi_ok) return 0;
  napi_valuetype type;
  napi_typeof(env, *out, &type);
  return type != napi_undefined && type != napi_null;
}

static double get_number(napi_env env, napi_value object, const char *name, double fallback) {
  napi_value v;
  double out = fallback;
  if (get_property(env, object, name, &v)) napi_get_value_double(env, v, &out);
  return out;
}

static int get_bool(napi_env env, napi_value object, const char *name) {
  napi_value v;
  bool out = false;
  if (get_property(env, object, name, &v)) napi_get_value_bool(env, v, &out);
  return out ? 1 : 0;
}

/** Buffers of an array property; 0 on a malformed value. */
static int get_buffers(napi_env env, napi_value object, const char *name, size_t *count, char ***items,
                       size_t **lens) {
  napi_value array;
  *count = 0;
  *items = NULL;
  *lens = NULL;
  if (!get_property(env, object, name, &array)) return 1;
  uint32_t n = 0;
  if (napi_get_array_length(env, array, &n) != napi_ok) return 0;
  *items = calloc(n + 1, sizeof(**items));
  *lens = calloc(n + 1, sizeof(**lens));
  if (*items == NULL || *lens == NULL) return 0;
  for (uint32_t i = 0; i < n; i++) {
    napi_value item;
    if (napi_get_element(env, array, i, &item) != napi_ok) return 0;
    (*items)[i] = buffer_copy(env, item, &(*lens)[i]);
    if ((*items)[i] == NULL) return 0;
    *count = i + 1;
  }
  return 1;
}

/** The resume cursor: { components: Buffer[], units: "level:cookie,…", subtreeDone: boolean }. */
static struct resume *parse_resume(napi_env env, napi_value value) {
  struct resume *r = calloc(1, sizeof(*r));
  if (r == NULL) return NULL;
  if (!get_buffers(env, value, "components", &r->ncomponents, &r->components, &r->component_lens)) {
    resume_free(r);
    return NULL;
  }
  r->cookies = calloc(r->ncomponents + 1, sizeof(*r->cookies));
  if (r->cookies == NULL) {
    resume_free(r);
    return NULL;
  }
  napi_value units;
  if (get_property(env, value, "units", &units)) {
    char text[65536];
    size_t len = 0;
    if (napi_get_value_string_utf8(env, units, text, sizeof(text), &len) != napi_ok) {
      resume_free(r);
      return NULL;
    }
    char *p = text;
    while (*p != '\0') {
      char *end;
      unsigned long long level = strtoull(p, &end, 10);
      if (*end != ':' || level > r->ncomponents) {
        resume_free(r);
        return NULL;
      }
      unsigned long long cookie = strtoull(end + 1, &end, 10);
      r->cookies[level] = cookie;
      if (*end == ',') end++;
      else if (*end != '\0') {
        resume_free(r);
        return NULL;
      }
      p = end;
    }
  }
  r->subtree_done = get_bool(env, value, "subtreeDone") && r->ncomponents > 0;
  return r;
}

static napi_value create_engine(napi_env env, napi_callback_info info) {
  (void)info;
  struct holder *h = calloc(1, sizeof(*h));
  if (h != NULL) h->engine = engine_new();
  if (h == NULL || h->engine == NULL) {
    free(h);
    return throw_errno(env, ENOMEM, "cannot create the walker engine");
  }
  napi_value out;
  CHECK(env, napi_create_external(env, h, finalize_engine, NULL, &out));
  return out;
}

static struct holder *holder_arg(napi_env env, napi_value value) {
  void *data = NULL;
  if (napi_get_value_external(env, value, &data) != napi_ok) return NULL;
  return data;
}

static struct engine *engine_arg(napi_env env, napi_value value) {
  struct holder *h = holder_arg(env, value);
  return h != NULL ? h->engine : NULL;
}

static napi_value start(napi_env env, napi_callback_info info) {
  size_t argc = 3;
  napi_value argv[3];
  CHECK(env, napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  struct engine *e = argc == 3 ? engine_arg(env, argv[0]) : NULL;
  if (e == NULL) {
    napi_throw_type_error(env, NULL, "start(engine, options, onBatch)");
    return NULL;
  }
  napi_value options = argv[1];
  napi_value root_value;
  size_t root_len = 0;
  char *root = get_property(env, options, "root", &root_value) ? buffer_copy(env, root_value, &root_len) : NULL;
  struct settings *s = calloc(1, sizeof(*s));
  if (root == NULL || s == NULL) {
    free(root);
    free(s);
    napi_throw_type_error(env, NULL, "options.root must be a Buffer");
    return NULL;
  }
  s->now_ns = (int64_t)get_number(env, options, "nowMs", 0) * 1000000;
  s->use_mtime = get_bool(env, options, "useMtime");
  s->max_threads = (int)get_number(env, options, "threads", 64);
  if (s->max_threads < 1) s->max_threads = 1;
  s->mode = (int)get_number(env, options, "mode", 0);
  if (!get_buffers(env, options, "exclude", &s->nexclude, &s->exclude, &s->exclude_lens)) {
    free(root);
    settings_free(s);
    napi_throw_type_error(env, NULL, "options.exclude must be an array of Buffers");
    return NULL;
  }
  struct resume *resume = NULL;
  napi_value resume_value;
  if (get_property(env, options, "resume", &resume_value)) {
    resume = parse_resume(env, resume_value);
    if (resume == NULL) {
      free(root);
      settings_free(s);
      napi_throw_type_error(env, NULL, "options.resume is malformed");
      return NULL;
    }
  }
  int fd = -1;
  int err = open_root(root, &fd, &s->root_dev, &s->root_ino, &s->root_mnt_id, &s->has_mnt_id);
  free(root);
  if (err != 0) {
    settings_free(s);
    resume_free(resume);
    return throw_errno(env, err, "cannot open the root");
  }
  uint64_t dev = s->root_dev, ino = s->root_ino;
  struct js_walk *jw = calloc(1, sizeof(*jw));
  napi_value name;
  napi_create_string_utf8(env, "xfc-walk", NAPI_AUTO_LENGTH, &name);
  if (jw == NULL ||
      napi_create_threadsafe_function(env, argv[2], NULL, name, 2, 1, jw, finalize_js_walk, NULL, call_js,
                                      &jw->tsfn) != napi_ok) {
    free(jw);
    close(fd);
    settings_free(s);
    resume_free(resume);
    napi_throw_error(env, NULL, "cannot create the walk's callback");
    return NULL;
  }
  err = engine_start(e, s, fd, resume, deliver, jw);
  if (err != 0) {
    close(fd);
    settings_free(s);
    resume_free(resume);
    napi_release_threadsafe_function(jw->tsfn, napi_tsfn_abort);
    return throw_errno(env, err, "cannot start the walk");
  }
  napi_value out, dev_value, ino_value;
  CHECK(env, napi_create_object(env, &out));
  CHECK(env, napi_create_double(env, (double)dev, &dev_value));
  CHECK(env, napi_create_bigint_uint64(env, ino, &ino_value));
  CHECK(env, napi_set_named_property(env, out, "dev", dev_value));
  CHECK(env, napi_set_named_property(env, out, "ino", ino_value));
  return out;
}

/** The holder of a call's only argument, an engine (NULL if it is not one). */
static struct holder *only_holder(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc != 1) return NULL;
  return holder_arg(env, argv[0]);
}

static napi_value stop(napi_env env, napi_callback_info info) {
  struct holder *h = only_holder(env, info);
  if (h != NULL && h->engine != NULL) engine_stop(h->engine);
  return NULL;
}

static napi_value close_engine(napi_env env, napi_callback_info info) {
  struct holder *h = only_holder(env, info);
  if (h == NULL || h->engine == NULL) return NULL;
  engine_close(h->engine);
  h->engine = NULL;
  return NULL;
}

static napi_value init(napi_env env, napi_value exports) {
  napi_property_descriptor props[] = {
      {"createEngine", NULL, create_engine, NULL, NULL, NULL, napi_default, NULL},
      {"start", NULL, start, NULL, NULL, NULL, napi_default, NULL},
      {"stop", NULL, stop, NULL, NULL, NULL, napi_default, NULL},
      {"close", NULL, close_engine, NULL, NULL, NULL, napi_default, NULL},
  };
  CHECK(env, napi_define_properties(env, exports, sizeof(props) / sizeof(props[0]), props));
  return exports;
}

NAPI_MODULE(NODE_GYP_MODULE_NAME, init)
