/*
 * The engine: worker threads that process nodes and stat slices, and one emitter thread that hands records to
 * JavaScript strictly in walk order. The walk (its queue and node tree) is the only shared state, under one
 * mutex; system calls run outside it.
 */
#include "walker.h"

#include <dirent.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#define MAX_WORKERS 128
/** Nodes alive (pending, running, or done and not yet emitted) before workers only serve the emission front. */
#define MAX_ALIVE 200000
/** Directory descriptors open before workers only serve the emission front. */
#define MAX_OPEN_FDS 1024
/**
 * Entries statted ahead of what JavaScript has accounted before workers only serve the emission front: enough
 * to keep every thread busy, small enough that the walk reports a tree as it is near the moment it is counted.
 */
#define MAX_AHEAD_ENTRIES 16384
/**
 * The same with many requests in flight (a slow filesystem): the front can wait on a round trip while 64 threads
 * finish the rest of a small tree, and at 16,384 they stood idle for most of a 30,000-file latfs walk (thousands
 * of refused tasks, counted). Memory is bounded by records, below, not by entries.
 */
#define MAX_AHEAD_ENTRIES_SLOW 131072
/** Records done and not yet handed to JavaScript (~1.5 KB each) before workers only serve the front. */
#define MAX_AHEAD_RECORDS 16384
/** A batch goes to JavaScript at this size, or when the front waits for work. */
#define FLUSH_BYTES (256 * 1024)
#define FLUSH_RECORDS 512
#define FLUSH_ENTRIES 4096
/** Mean statx time above which the filesystem counts as slow (many requests in flight), and below which fast. */
#define SLOW_NS 50000
#define FAST_NS 15000
/** A slice counts as latency-bound when at least one call in this many slept (a voluntary context switch). */
#define BLOCKING_SHARE 4
#define MEASURE_EVERY 4
#define WORKER_STACK (512 * 1024)
/**
 * The walk's threads run this much nicer than the process: the JavaScript thread (heartbeats, the event loop)
 * must win the CPU over the walk's own threads on a 2-core host.
 */
#define THREAD_NICENESS 10

struct walk {
  struct settings *s;
  struct resume *resume;
  struct dir *root;
  deliver_fn deliver;
  void *ctx;
  struct node *top, *front;
  struct node *qhead;
  struct unit *slicing;
  size_t alive;
  size_t ahead;         /* entries in done records not yet handed to JavaScript */
  size_t ahead_records; /* and those records */
  atomic_int open_fds;
  int stopping, complete, running, active, error;
  int ncpu;
  atomic_llong lat_ns; /* mean statx time, -1 until measured */
};

struct engine;
struct worker {
  struct engine *engine;
  int index;
};

struct engine {
  pthread_mutex_t mu;
  pthread_cond_t work_cv, emit_cv;
  pthread_cond_t idle_cv; /* workers beyond the walk's active count wait here, so a signal never goes to one */
  pthread_t threads[MAX_WORKERS];
  struct worker workers[MAX_WORKERS];
  int nworkers;
  pthread_t emitter;
  int emitter_started;
  struct walk *walk;
  int quit;
  int live; /* threads not yet ended: the last one to end frees a closed engine */
  int ncpu;
};

struct task {
  struct node *node;
  struct unit *unit;
  size_t slice;
};

/* ---- nodes ---- */

static struct node *node_new(int kind, struct dir *d, uint64_t cookie) {
  struct node *n = calloc(1, sizeof(*n));
  if (n == NULL) return NULL;
  n->kind = kind;
  n->state = kind == NODE_DONE ? STATE_DONE : STATE_PENDING;
  n->cookie = cookie;
  if (d != NULL) {
    n->dir = d;
    dir_ref(d);
    if (kind == NODE_OPEN || kind == NODE_UNIT || kind == NODE_RESUME) {
      dir_use(d);
      n->fd_held = 1;
    }
  }
  return n;
}

static void unit_free(struct unit *u) {
  if (u == NULL) return;
  unit_free(u->ahead);
  free(u->names);
  free(u->entries);
  free(u);
}

/** Frees a node that never joined the tree (no lock needed: nothing else knows it). */
static void node_discard(struct node *n) {
  if (n->fd_held) dir_unuse(n->dir);
  if (n->dir != NULL) dir_unref(n->dir);
  record_free(n->record);
  unit_free(n->unit);
  unit_free(n->read_ahead);
  free(n->name);
  free(n->children);
  free(n);
}

/** Under the lock: frees a node of the tree. */
static void node_free(struct walk *w, struct node *n) {
  w->alive--;
  node_discard(n);
}

static void subtree_free(struct walk *w, struct node *n) {
  for (uint32_t i = 0; i < n->nchildren; i++) subtree_free(w, n->children[i]);
  n->nchildren = 0;
  node_free(w, n);
}

/** Frees what was not emitted: the front's subtree, and each ancestor with its later children. */
static void rest_free(struct walk *w) {
  struct node *n = w->front;
  if (n == NULL) return;
  struct node *p = n->parent;
  uint32_t idx = n->index;
  subtree_free(w, n);
  while (p != NULL) {
    for (uint32_t i = idx + 1; i < p->nchildren; i++) subtree_free(w, p->children[i]);
    struct node *up = p->parent;
    idx = p->index;
    p->nchildren = 0;
    node_free(w, p);
    p = up;
  }
  w->front = NULL;
}

/** Queues children at the head, in order (depth first: the walk's memory stays near the emission front). */
static void queue_front(struct walk *w, struct node **children, uint32_t count) {
  for (uint32_t i = count; i-- > 0;) {
    struct node *c = children[i];
    if (c->state != STATE_PENDING) continue;
    c->qprev = NULL;
    c->qnext = w->qhead;
    if (w->qhead != NULL) w->qhead->qprev = c;
    w->qhead = c;
    c->queued = 1;
  }
}

static void unqueue(struct walk *w, struct node *n) {
  if (n->qprev != NULL) n->qprev->qnext = n->qnext;
  else w->qhead = n->qnext;
  if (n->qnext != NULL) n->qnext->qprev = n->qprev;
  n->qprev = n->qnext = NULL;
  n->queued = 0;
}

/**
 * Under the lock: how many workers to wake for `tasks` new tasks (SIZE_MAX: all). Not all 64 of a slow
 * filesystem's threads for each task: on 2 cores a woken thread that finds nothing to do costs the CPU the
 * filesystem's requests need.
 */
static size_t workers_to_wake(const struct walk *w, size_t tasks) {
  return w->stopping || tasks >= (size_t)w->active ? SIZE_MAX : tasks;
}

/**
 * After the lock is released: wakes them. Signalled under the lock, each woken thread went straight back to sleep
 * on the mutex the signaller still held, and woke again when it was released: on a latfs walk three futex calls in
 * four were on that mutex (perf, call sites of sys_enter_futex), and signalling after the unlock cut a walk's
 * futex calls from ~5,600 to ~3,300 (1,800 fewer context switches, each dear on a 2-core virtual machine).
 */
static void wake_workers(struct engine *e, size_t count) {
  if (count == SIZE_MAX) {
    pthread_cond_broadcast(&e->work_cv);
    return;
  }
  for (size_t i = 0; i < count; i++) pthread_cond_signal(&e->work_cv);
}

/** A node's work is done: its record and children join the tree (called without the lock). */
static void complete_node(struct engine *e, struct walk *w, struct node *n, struct record *r, struct node **children,
                          uint32_t count, int err) {
  pthread_mutex_lock(&e->mu);
  n->record = r;
  if (r != NULL) {
    w->ahead += r->counts[C_ENTRIES];
    w->ahead_records++;
  }
  n->children = children;
  n->nchildren = count;
  for (uint32_t i = 0; i < count; i++) {
    children[i]->parent = n;
    children[i]->index = i;
  }
  w->alive += count;
  n->state = STATE_DONE;
  queue_front(w, children, count);
  if (err != 0 && w->error == 0) {
    w->error = err;
    w->stopping = 1;
  }
  size_t wake = workers_to_wake(w, count);
  pthread_mutex_unlock(&e->mu);
  wake_workers(e, wake);
  pthread_cond_signal(&e->emit_cv);
}

/* ---- node lists built by a task ---- */

struct list {
  struct node **v;
  uint32_t n, cap;
  int err;
};

static void list_push(struct list *l, struct node *n) {
  if (n == NULL) {
    l->err = ENOMEM;
    return;
  }
  if (l->n == l->cap) {
    uint32_t cap = l->cap == 0 ? 16 : l->cap * 2;
    struct node **grown = realloc(l->v, cap * sizeof(*grown));
    if (grown == NULL) {
      l->err = ENOMEM;
      return;
    }
    l->v = grown;
    l->cap = cap;
  }
  l->v[l->n++] = n;
}

static struct node *open_node(struct dir *d, const struct entry *e, const char *name, uint64_t cookie) {
  struct node *n = node_new(NODE_OPEN, d, cookie);
  if (n == NULL) return NULL;
  n->name = malloc(e->name_len + 1);
  if (n->name == NULL) {
    dir_unuse(d);
    dir_unref(d);
    free(n);
    return NULL;
  }
  memcpy(n->name, name, e->name_len + 1);
  n->name_len = e->name_len;
  n->dev = e->dev;
  n->ino = e->ino;
  return n;
}

/** Frees nodes of a list that never joined the tree. */
static void list_drop(struct list *l) {
  for (uint32_t i = 0; i < l->n; i++) node_discard(l->v[i]);
  free(l->v);
  l->v = NULL;
  l->n = 0;
}

/* ---- units ---- */

static int64_t now_ns(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (int64_t)t.tv_sec * 1000000000 + t.tv_nsec;
}

/** The unit's entries are all statted: its record, then its subdirectories and the directory's next unit. */
static void finalize_unit(struct engine *e, struct walk *w, struct unit *u) {
  struct node *n = u->node;
  struct dir *d = u->dir;
  struct record *r = record_new(d, u->cookie);
  int err = r == NULL ? ENOMEM : account_unit(w->s, u, r, d->parent == NULL && u->cookie == 0);
  struct list children = {0};
  for (size_t i = 0; i < u->count && err == 0; i++) {
    const struct entry *en = &u->entries[i];
    const char *name = u->names + en->name_off;
    if (entry_is_subdir(w->s, en, name)) list_push(&children, open_node(d, en, name, u->cookie));
  }
  if (!u->eof && err == 0) {
    struct node *next = node_new(NODE_UNIT, d, u->next_cookie);
    if (next != NULL) {
      next->read_ahead = u->ahead; /* NULL if it could not be read ahead: it is read when it starts */
      u->ahead = NULL;
    }
    list_push(&children, next);
  }
  if (children.err != 0) err = children.err;
  if (err != 0) list_drop(&children);
  pthread_mutex_lock(&e->mu);
  n->unit = NULL;
  pthread_mutex_unlock(&e->mu);
  unit_free(u);
  n->fd_held = 0;
  dir_unuse(d);
  complete_node(e, w, n, r, children.v, children.n, err);
}

/** How many entries one thread stats at a time: small on a slow filesystem, so that many threads share one. */
static size_t slice_size(struct walk *w, size_t count) {
  long long lat = atomic_load_explicit(&w->lat_ns, memory_order_relaxed);
  size_t per = lat < 0 ? 8 : lat > SLOW_NS ? 4 : 512;
  size_t spread = (count + (size_t)w->active * 2 - 1) / ((size_t)w->active * 2);
  if (spread < per) per = spread < 4 ? 4 : spread;
  return per;
}

/**
 * Reads a unit (unless the previous unit read it ahead), then hands out its stat slices (or completes it at once
 * when it is empty or unreadable). While other threads stat the slices, this one reads the directory's next unit:
 * reading a unit of a large directory is ~a third of the time its entries take to stat, and without the overlap
 * one core idled while the other read (flat-200k). Units of a directory are still read one after the other.
 */
static void start_unit(struct engine *e, struct walk *w, struct node *n) {
  struct dir *d = n->dir;
  struct unit *u = n->read_ahead;
  n->read_ahead = NULL;
  int err;
  if (u != NULL) {
    err = u->read_err;
  } else {
    u = calloc(1, sizeof(*u));
    if (u == NULL) {
      complete_node(e, w, n, NULL, NULL, 0, ENOMEM);
      return;
    }
    u->dir = d;
    u->cookie = n->cookie;
    err = read_unit(u);
  }
  u->node = n;
  if (err != 0) {
    struct record *r = record_new(d, u->cookie);
    int rc = r == NULL ? ENOMEM : account_unit(w->s, u, r, d->parent == NULL && u->cookie == 0);
    if (rc == 0) rc = record_error(r, kind_of_open_error(err), NULL, 0, err, NULL);
    unit_free(u);
    n->fd_held = 0;
    dir_unuse(d);
    complete_node(e, w, n, r, NULL, 0, rc);
    return;
  }
  if (u->count == 0) {
    finalize_unit(e, w, u);
    return;
  }
  /* Reading ahead counts as one more slice, so the unit is finalized only after it. */
  int read_next = !u->eof;
  pthread_mutex_lock(&e->mu);
  u->slice_size = slice_size(w, u->count);
  u->nslices = (u->count + u->slice_size - 1) / u->slice_size;
  atomic_init(&u->slices_left, u->nslices + (size_t)read_next);
  n->unit = u;
  u->next_slicing = w->slicing;
  w->slicing = u;
  size_t wake = workers_to_wake(w, u->nslices);
  pthread_mutex_unlock(&e->mu);
  wake_workers(e, wake);
  if (!read_next) return;
  struct unit *next = calloc(1, sizeof(*next));
  if (next != NULL) {
    next->dir = d;
    next->cookie = u->next_cookie;
    next->read_err = read_unit(next);
  }
  u->ahead = next;
  if (atomic_fetch_sub_explicit(&u->slices_left, 1, memory_order_acq_rel) == 1) finalize_unit(e, w, u);
}

static void ensure_workers(struct engine *e, int count);
static void update_latency(struct engine *e, struct walk *w, long long mean, const struct rusage *before,
                           size_t calls);

/** Stats one slice of a unit; the thread that stats the last one finalizes the unit. */
static void run_slice(struct engine *e, struct walk *w, struct unit *u, size_t slice) {
  size_t from = slice * u->slice_size;
  size_t to = from + u->slice_size < u->count ? from + u->slice_size : u->count;
  /* Every MEASURE_EVERY-th slice of a thread is timed (two getrusage calls cost 1-2% of a latfs walk). */
  static __thread unsigned slices_run;
  int measure = slices_run++ % MEASURE_EVERY == 0 || atomic_load_explicit(&w->lat_ns, memory_order_relaxed) < 0;
  struct rusage before;
  if (measure) measure = getrusage(RUSAGE_THREAD, &before) == 0;
  int64_t started = measure ? now_ns() : 0;
  for (size_t i = from; i < to; i++) {
    struct entry *en = &u->entries[i];
    stat_entry(w->s, u->dir->fd, u->names + en->name_off, en);
  }
  if (measure) update_latency(e, w, (now_ns() - started) / (long long)(to - from), &before, to - from);
  if (atomic_fetch_sub_explicit(&u->slices_left, 1, memory_order_acq_rel) == 1) finalize_unit(e, w, u);
}

/** Folds a timed slice's mean statx time into the walk's latency, and adapts the number of threads to it. */
static void update_latency(struct engine *e, struct walk *w, long long mean, const struct rusage *before,
                           size_t calls) {
  /*
   * Time spent is latency only if the thread slept in the calls (a network filesystem's round trip, a disk read):
   * a thread that was merely preempted on a busy host (involuntary switches) was on a fast filesystem, where more
   * threads than cores only add contention. Seen: a loaded 2-core host pushed the mean of a warm local tree above
   * SLOW_NS and the walk started 64 threads.
   */
  struct rusage after;
  if (getrusage(RUSAGE_THREAD, &after) != 0) return;
  long slept = after.ru_nvcsw - before->ru_nvcsw;
  if ((size_t)slept * BLOCKING_SHARE < calls) mean = 0;
  long long old = atomic_load_explicit(&w->lat_ns, memory_order_relaxed);
  long long lat = old < 0 ? mean : (old * 7 + mean) / 8;
  atomic_store_explicit(&w->lat_ns, lat, memory_order_relaxed);
  if (w->s->mode == 0) {
    int fast = e->ncpu < w->s->max_threads ? e->ncpu : w->s->max_threads;
    int wanted = lat > SLOW_NS ? w->s->max_threads : lat < FAST_NS ? fast : w->active;
    if (wanted != w->active) {
      pthread_mutex_lock(&e->mu);
      w->active = wanted;
      ensure_workers(e, wanted);
      pthread_cond_broadcast(&e->work_cv);
      pthread_cond_broadcast(&e->idle_cv);
      pthread_mutex_unlock(&e->mu);
    }
  }
}

/* ---- opening and resuming ---- */

static void run_open(struct engine *e, struct walk *w, struct node *n) {
  struct dir *parent = n->dir;
  int fd = -1;
  const char *code = NULL;
  int err = open_child(w->s, parent, n->name, n->dev, n->ino, &fd, &code);
  if (err != 0) {
    struct record *r = record_new(parent, n->cookie);
    int rc = r == NULL ? ENOMEM
                       : record_error(r, code != NULL ? KIND_VANISHED : kind_of_open_error(err), n->name,
                                      n->name_len, err, code);
    n->fd_held = 0;
    dir_unuse(parent);
    complete_node(e, w, n, r, NULL, 0, rc);
    return;
  }
  struct dir *child = dir_new(fd, parent, n->name, n->name_len, n->cookie, n->dev, n->ino);
  n->fd_held = 0;
  dir_unuse(parent);
  if (child == NULL) {
    close(fd);
    complete_node(e, w, n, NULL, NULL, 0, ENOMEM);
    return;
  }
  dir_unref(parent); /* the node now points to the child, which holds its parent */
  n->dir = child;    /* takes dir_new's reference */
  dir_use(child);
  n->fd_held = 1;
  n->kind = NODE_UNIT;
  n->cookie = 0;
  start_unit(e, w, n);
}

static int same_name(const char *a, size_t a_len, const char *b, size_t b_len) {
  return a_len == b_len && memcmp(a, b, a_len) == 0;
}

static int compare_names(const char *a, size_t a_len, const char *b, size_t b_len) {
  int c = memcmp(a, b, a_len < b_len ? a_len : b_len);
  return c != 0 ? c : (a_len > b_len) - (a_len < b_len);
}

/**
 * Rebuilds what follows a checkpoint's cursor: at each level from the root down, re-reads the unit that held
 * the path's next component, keeps the subdirectories after it (and the directory's next unit), and opens the
 * component exactly as a walk would (openat, O_NOFOLLOW, identity checked). The node's children are these
 * continuations, deepest level first; its record counts a path component that is gone.
 */
static void run_resume(struct engine *e, struct walk *w, struct node *n) {
  const struct resume *rs = w->resume;
  size_t levels = rs->ncomponents + 1;
  struct list *conts = calloc(levels, sizeof(*conts));
  struct record *r = NULL;
  int err = conts == NULL ? ENOMEM : 0;
  struct dir *cur = w->root;
  dir_ref(cur);
  dir_use(cur);
  for (size_t level = 0; level < levels && err == 0; level++) {
    int at_cursor = level == rs->ncomponents;
    const char *comp = at_cursor ? NULL : rs->components[level];
    size_t comp_len = at_cursor ? 0 : rs->component_lens[level];
    struct unit u = {.dir = cur, .cookie = rs->cookies[level]};
    int rerr = read_unit(&u);
    if (rerr != 0) {
      r = record_new(cur, u.cookie);
      err = r == NULL ? ENOMEM : record_error(r, kind_of_open_error(rerr), NULL, 0, rerr, NULL);
      break;
    }
    struct entry *found = NULL;
    for (size_t i = 0; i < u.count; i++) {
      struct entry *en = &u.entries[i];
      const char *name = u.names + en->name_off;
      if (en->d_type == DT_DIR || en->d_type == DT_UNKNOWN) stat_entry(w->s, cur->fd, name, en);
      if (!at_cursor) {
        int c = compare_names(name, en->name_len, comp, comp_len);
        if (c == 0) found = en;
        if (c <= 0) continue;
      }
      if (entry_is_subdir(w->s, en, name)) list_push(&conts[level], open_node(cur, en, name, u.cookie));
    }
    if (!u.eof) list_push(&conts[level], node_new(NODE_UNIT, cur, u.next_cookie));
    if (conts[level].err != 0) err = conts[level].err;
    int descend = !at_cursor && !(rs->subtree_done && level + 1 == rs->ncomponents) && err == 0;
    struct dir *next = NULL;
    if (descend) {
      const char *code = NULL;
      int oerr = ENOENT;
      int fd = -1;
      if (found != NULL && entry_is_subdir(w->s, found, comp) && same_name(u.names + found->name_off,
                                                                              found->name_len, comp, comp_len)) {
        oerr = open_child(w->s, cur, comp, found->dev, found->ino, &fd, &code);
      }
      if (oerr == 0) {
        next = dir_new(fd, cur, comp, comp_len, u.cookie, found->dev, found->ino);
        if (next == NULL) {
          close(fd);
          err = ENOMEM;
        }
      } else {
        r = record_new(cur, u.cookie);
        err = r == NULL ? ENOMEM
                        : record_error(r, code != NULL ? KIND_VANISHED : kind_of_open_error(oerr), comp, comp_len,
                                       oerr, code);
      }
    }
    free(u.names);
    free(u.entries);
    dir_unuse(cur);
    dir_unref(cur);
    cur = next;
    if (cur == NULL) break;
    dir_use(cur);
  }
  if (cur != NULL) {
    dir_unuse(cur);
    dir_unref(cur);
  }
  struct list all = {0};
  for (size_t level = levels; conts != NULL && level-- > 0;) {
    for (uint32_t i = 0; i < conts[level].n; i++) list_push(&all, conts[level].v[i]);
    free(conts[level].v);
  }
  free(conts);
  if (all.err != 0 && err == 0) err = all.err;
  if (err != 0) list_drop(&all);
  n->fd_held = 0;
  dir_unuse(n->dir);
  complete_node(e, w, n, r, all.v, all.n, err);
}

static void run_node(struct engine *e, struct walk *w, struct node *n) {
  switch (n->kind) {
  case NODE_OPEN:
    run_open(e, w, n);
    break;
  case NODE_UNIT:
    start_unit(e, w, n);
    break;
  case NODE_RESUME:
    run_resume(e, w, n);
    break;
  default:
    complete_node(e, w, n, NULL, NULL, 0, 0);
  }
}

/* ---- threads ---- */

/** Under the lock: a task for worker `index`, if the walk has one for it now. */
static int take_task(struct walk *w, int index, struct task *t) {
  if (w->stopping || index >= w->active) return 0;
  struct unit *u = w->slicing;
  if (u != NULL) {
    t->node = NULL;
    t->unit = u;
    t->slice = u->next_slice++;
    if (u->next_slice >= u->nslices) w->slicing = u->next_slicing;
    return 1;
  }
  struct node *n = w->qhead;
  size_t max_ahead = w->active > 2 * w->ncpu ? MAX_AHEAD_ENTRIES_SLOW : MAX_AHEAD_ENTRIES;
  int over = w->alive > MAX_ALIVE || w->ahead > max_ahead || w->ahead_records > MAX_AHEAD_RECORDS ||
             atomic_load_explicit(&w->open_fds, memory_order_relaxed) > MAX_OPEN_FDS;
  if (over) n = w->front != NULL && w->front->queued ? w->front : NULL;
  if (n == NULL) return 0;
  unqueue(w, n);
  n->state = STATE_RUNNING;
  t->node = n;
  t->unit = NULL;
  return 1;
}

static void engine_free(struct engine *e) {
  pthread_cond_destroy(&e->work_cv);
  pthread_cond_destroy(&e->idle_cv);
  pthread_cond_destroy(&e->emit_cv);
  pthread_mutex_destroy(&e->mu);
  free(e);
}

/** Under the lock, as a thread ends: unlocks, and frees the engine if it was closed and this was its last thread. */
static void thread_end(struct engine *e) {
  int last = --e->live == 0 && e->quit;
  pthread_mutex_unlock(&e->mu);
  if (last) engine_free(e);
}

/** Lowers the calling thread's priority (Linux: nice is per thread). A failure only loses the preference. */
static void lower_priority(void) {
  id_t tid = (id_t)syscall(SYS_gettid);
  errno = 0;
  int nice_now = getpriority(PRIO_PROCESS, tid);
  if (errno != 0) return;
  if (setpriority(PRIO_PROCESS, tid, nice_now + THREAD_NICENESS) != 0) return;
}

static void *worker_main(void *arg) {
  struct worker *me = arg;
  struct engine *e = me->engine;
  lower_priority();
  pthread_mutex_lock(&e->mu);
  for (;;) {
    struct task t;
    if (e->quit) break;
    if (e->walk != NULL && me->index >= e->walk->active && !e->walk->stopping) {
      pthread_cond_wait(&e->idle_cv, &e->mu);
      continue;
    }
    if (e->walk == NULL || !take_task(e->walk, me->index, &t)) {
      pthread_cond_wait(&e->work_cv, &e->mu);
      continue;
    }
    struct walk *w = e->walk;
    w->running++;
    pthread_mutex_unlock(&e->mu);
    if (t.unit != NULL) run_slice(e, w, t.unit, t.slice);
    else run_node(e, w, t.node);
    pthread_mutex_lock(&e->mu);
    if (--w->running == 0) pthread_cond_signal(&e->emit_cv);
  }
  thread_end(e);
  return NULL;
}

/** Under the lock: starts worker threads up to `count` (threads are kept for later walks). */
static void ensure_workers(struct engine *e, int count) {
  if (count > MAX_WORKERS) count = MAX_WORKERS;
  pthread_attr_t attr;
  if (pthread_attr_init(&attr) != 0) return;
  pthread_attr_setstacksize(&attr, WORKER_STACK);
  while (e->nworkers < count) {
    struct worker *wk = &e->workers[e->nworkers];
    wk->engine = e;
    wk->index = e->nworkers;
    if (pthread_create(&e->threads[e->nworkers], &attr, worker_main, wk) != 0) break;
    pthread_detach(e->threads[e->nworkers]);
    e->nworkers++;
    e->live++;
  }
  pthread_attr_destroy(&attr);
  /* With fewer threads than wanted (a thread limit), the walk runs with those it has. */
  if (e->walk != NULL && e->walk->active > e->nworkers && e->nworkers > 0) e->walk->active = e->nworkers;
}

/** Under the lock: the next node to emit after `n`, freeing every node whose subtree is now emitted. */
static struct node *advance(struct walk *w, struct node *n) {
  if (n->nchildren > 0) return n->children[0];
  for (;;) {
    struct node *p = n->parent;
    uint32_t idx = n->index;
    node_free(w, n);
    if (p == NULL) return NULL;
    if (idx + 1 < p->nchildren) return p->children[idx + 1];
    p->nchildren = 0; /* its children are freed */
    n = p;
  }
}

/** Under the lock: hands records to JavaScript in walk order until the walk is complete or stopped. */
static void emit(struct engine *e, struct walk *w) {
  char *buf = NULL;
  size_t len = 0, cap = 0, records = 0, entries = 0;
  for (;;) {
    if (w->stopping) break;
    struct node *n = w->front;
    if (n == NULL) {
      w->complete = 1;
      break;
    }
    if (n->state == STATE_DONE) {
      if (n->record != NULL) {
        int err = record_serialize(n->record, &buf, &len, &cap);
        if (err != 0) {
          w->error = err;
          w->stopping = 1;
          break;
        }
        entries += n->record->counts[C_ENTRIES];
        record_free(n->record);
        n->record = NULL;
        records++;
      }
      w->front = advance(w, n);
      /* A walk held back (too far ahead) waits for this node: one worker may take it. */
      if (w->front != NULL && w->front->queued) pthread_cond_signal(&e->work_cv);
      if (len < FLUSH_BYTES && records < FLUSH_RECORDS && entries < FLUSH_ENTRIES) continue;
    } else if (len == 0) {
      pthread_cond_wait(&e->emit_cv, &e->mu);
      continue;
    } else {
      /* Wait a little for more before sending a small batch. */
      struct timespec until;
      clock_gettime(CLOCK_REALTIME, &until);
      until.tv_nsec += 2000000;
      if (until.tv_nsec >= 1000000000) {
        until.tv_sec++;
        until.tv_nsec -= 1000000000;
      }
      pthread_cond_timedwait(&e->emit_cv, &e->mu, &until);
      if (w->front != NULL && w->front->state == STATE_DONE && !w->stopping) continue;
    }
    pthread_mutex_unlock(&e->mu);
    w->deliver(w->ctx, buf, len, 0, NULL);
    pthread_mutex_lock(&e->mu);
    /* Handed over (JavaScript has at most two batches queued): the walk may go that much further ahead. */
    w->ahead -= entries < w->ahead ? entries : w->ahead;
    w->ahead_records -= records < w->ahead_records ? records : w->ahead_records;
    pthread_cond_broadcast(&e->work_cv);
    buf = NULL;
    len = cap = 0;
    records = 0;
    entries = 0;
  }
  if (w->complete && len > 0) {
    pthread_mutex_unlock(&e->mu);
    w->deliver(w->ctx, buf, len, 0, NULL);
    pthread_mutex_lock(&e->mu);
  } else {
    free(buf);
  }
}

static void walk_free(struct walk *w) {
  rest_free(w);
  dir_unref(w->root);
  settings_free(w->s);
  resume_free(w->resume);
  free(w);
}

static void *emitter_main(void *arg) {
  struct engine *e = arg;
  lower_priority();
  pthread_mutex_lock(&e->mu);
  for (;;) {
    while (!e->quit && e->walk == NULL) pthread_cond_wait(&e->emit_cv, &e->mu);
    if (e->quit) break;
    struct walk *w = e->walk;
    emit(e, w);
    w->stopping = 1; /* complete or stopped: workers take nothing more */
    while (w->running > 0) pthread_cond_wait(&e->emit_cv, &e->mu);
    w->slicing = NULL;
    w->qhead = NULL;
    e->walk = NULL;
    pthread_mutex_unlock(&e->mu);
    char error[128] = "";
    if (w->error != 0) errno_code(w->error, error);
    deliver_fn deliver = w->deliver;
    void *ctx = w->ctx;
    walk_free(w);
    deliver(ctx, NULL, 0, 1, error[0] != '\0' ? error : NULL);
    pthread_mutex_lock(&e->mu);
  }
  thread_end(e);
  return NULL;
}

/* ---- the engine's interface ---- */

/** Under the lock: every thread looks at the walk again. */
static void wake_all(struct engine *e) {
  pthread_cond_broadcast(&e->work_cv);
  pthread_cond_broadcast(&e->idle_cv);
  pthread_cond_broadcast(&e->emit_cv);
}

struct engine *engine_new(void) {
  struct engine *e = calloc(1, sizeof(*e));
  if (e == NULL) return NULL;
  if (pthread_mutex_init(&e->mu, NULL) != 0) {
    free(e);
    return NULL;
  }
  pthread_cond_init(&e->work_cv, NULL);
  pthread_cond_init(&e->idle_cv, NULL);
  pthread_cond_init(&e->emit_cv, NULL);
  long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
  e->ncpu = ncpu > 0 ? (int)ncpu : 1;
  return e;
}

/** Starts a walk of the opened root (the engine takes the descriptor, settings and resume). Returns 0 or errno. */
int engine_start(struct engine *e, struct settings *s, int root_fd, struct resume *resume, deliver_fn deliver,
                 void *ctx) {
  struct walk *w = calloc(1, sizeof(*w));
  if (w == NULL) return ENOMEM;
  w->s = s;
  w->resume = resume;
  w->deliver = deliver;
  w->ctx = ctx;
  atomic_init(&w->open_fds, 1);
  atomic_init(&w->lat_ns, -1);
  w->root = dir_new(root_fd, NULL, "", 0, 0, s->root_dev, s->root_ino);
  if (w->root == NULL) {
    free(w);
    return ENOMEM;
  }
  w->root->open_fds = &w->open_fds;
  w->top = node_new(resume != NULL ? NODE_RESUME : NODE_UNIT, w->root, 0);
  if (w->top == NULL) {
    w->root->fd = -1; /* the caller closes it */
    dir_unref(w->root);
    free(w);
    return ENOMEM;
  }
  w->front = w->top;
  w->alive = 1;
  w->top->qnext = NULL;
  w->top->queued = 1;
  w->qhead = w->top;
  int fast = e->ncpu < s->max_threads ? e->ncpu : s->max_threads;
  w->active = s->mode == 2 ? s->max_threads : fast;
  w->ncpu = e->ncpu;
  pthread_mutex_lock(&e->mu);
  int err = e->walk != NULL || e->quit ? EBUSY : 0;
  if (err == 0 && !e->emitter_started) {
    err = pthread_create(&e->emitter, NULL, emitter_main, e);
    e->emitter_started = err == 0;
    if (err == 0) {
      pthread_detach(e->emitter);
      e->live++;
    }
  }
  if (err != 0) {
    pthread_mutex_unlock(&e->mu);
    /* The caller keeps the descriptor, settings and resume it passed. */
    w->root->fd = -1;
    w->s = NULL;
    w->resume = NULL;
    rest_free(w);
    dir_unref(w->root);
    free(w);
    return err;
  }
  e->walk = w;
  ensure_workers(e, w->active);
  wake_all(e);
  pthread_mutex_unlock(&e->mu);
  return 0;
}

/** Asks the running walk to stop: threads finish their current system call; its final message follows. */
void engine_stop(struct engine *e) {
  pthread_mutex_lock(&e->mu);
  if (e->walk != NULL) e->walk->stopping = 1;
  wake_all(e);
  pthread_mutex_unlock(&e->mu);
}

/**
 * Ends the engine: its threads end on their own and the last one frees it, so the JavaScript thread never waits
 * for them (they run at a lower priority). An engine that never ran a walk is freed here.
 */
void engine_close(struct engine *e) {
  pthread_mutex_lock(&e->mu);
  e->quit = 1;
  if (e->walk != NULL) e->walk->stopping = 1;
  wake_all(e);
  int none = e->live == 0; /* else the threads free it: e must not be touched after this unlock */
  pthread_mutex_unlock(&e->mu);
  if (none) engine_free(e);
}

void settings_free(struct settings *s) {
  if (s == NULL) return;
  for (size_t i = 0; i < s->nexclude; i++) free(s->exclude[i]);
  free(s->exclude);
  free(s->exclude_lens);
  free(s);
}

void resume_free(struct resume *r) {
  if (r == NULL) return;
  for (size_t i = 0; i < r->ncomponents; i++) free(r->components[i]);
  free(r->components);
  free(r->component_lens);
  free(r->cookies);
  free(r);
}
