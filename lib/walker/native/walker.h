/*
 * The native walker core (DESIGN §2–§3): an fd-relative, parallel, ordered walk of one directory tree.
 *
 * Shape: the walk is a tree of *nodes* in walk order. A node is one *unit* of a directory (at most UNIT_ENTRIES
 * raw getdents entries, read from a getdents cookie and sorted bytewise), a directory still to open, or a
 * prepared record. Worker threads process nodes out of order; the emitter thread hands their records to
 * JavaScript strictly in walk order (preorder: a unit's record, then its subdirectories' subtrees in name order,
 * then the directory's next unit). Memory is bounded by the unit size and the number of nodes alive, never by
 * a directory's size; a checkpoint is a path plus the cookie of the unit at each level.
 *
 * Nothing below the root is named by a path string: each directory is opened with openat(parent_fd, name,
 * O_NOFOLLOW) and entered only if the opened descriptor is the inode its parent's statx saw, on the same mount.
 */
#ifndef XFC_WALKER_H
#define XFC_WALKER_H

#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <pthread.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

typedef unsigned __int128 u128;

/** Raw getdents entries per unit ("." and ".." included): bounds memory per directory in flight. */
#define UNIT_ENTRIES 4096
#define MAX_SAMPLES 20
#define CODE_LEN 40

enum err_kind { KIND_UNREADABLE, KIND_VANISHED, KIND_OTHER_DEVICE, KIND_OTHER_MOUNT, KIND_OTHER_ERRORS };

/** Counts of a record, in the order walker/record-decoder.ts reads them. */
enum {
  C_ENTRIES,
  C_FILES,
  C_DIRECTORIES,
  C_SYMLINKS,
  C_OTHERS,
  C_HIST0, /* 5 age buckets */
  C_UNREADABLE = C_HIST0 + 5,
  C_VANISHED,
  C_OTHER_DEVICE,
  C_OTHER_MOUNT,
  C_OTHER_ERRORS,
  C_COUNT
};
/** Sums of a record (exact, 128 bits), in the decoder's order. */
enum { S_BYTES, S_ALLOCATED, S_BYTE_DAYS, S_HIST0, S_COUNT = S_HIST0 + 5 };

struct sample {
  uint8_t kind;
  char code[CODE_LEN];
  char *rel; /* relative path, bytes */
  size_t rel_len;
};

/** A regular file with more than one link: JavaScript counts it once, at its first link in walk order. */
struct link {
  uint64_t dev, ino, size, allocated;
  uint32_t nlink, days;
};

/** An opened directory, shared by its units and its children's opens; keeps its name for display paths. */
struct dir {
  int fd;
  atomic_int fd_users; /* units and child opens still to come: the fd closes when none is left */
  atomic_int refs;     /* the struct lives while nodes, records or child dirs point to it */
  atomic_int *open_fds; /* the walk's count of open directory descriptors */
  struct dir *parent;
  uint32_t depth;
  uint64_t cookie_in_parent; /* the parent's unit that listed this directory */
  uint64_t dev, ino;
  size_t name_len;
  char name[];
};

struct record {
  struct dir *dir;  /* the directory of the unit (or the parent of a directory that could not be opened) */
  char *child;      /* set for a directory that could not be entered: its name */
  size_t child_len;
  uint64_t cookie;  /* the unit's cookie (or the parent's unit listing `child`) */
  int subtree_done; /* the cursor after this record is past `child`'s whole subtree */
  uint32_t counts[C_COUNT];
  u128 sums[S_COUNT];
  int nsamples;
  struct sample samples[MAX_SAMPLES];
  struct link *links;
  size_t nlinks, cap_links;
};

/** One entry of a unit: its name in the unit's arena, and what statx said (filled by a slice). */
struct entry {
  uint32_t name_off;
  uint16_t name_len;
  uint8_t d_type;
  uint8_t mount_root;
  int err;
  uint32_t mode, nlink;
  uint64_t dev, ino, size, blocks, mnt_id;
  int64_t time_ns;
};

struct walk;
struct node;

/** A unit being statted by slices on several threads. */
struct unit {
  struct node *node;
  struct dir *dir;
  uint64_t cookie, next_cookie;
  int eof;
  char *names;
  struct entry *entries;
  size_t count;
  size_t slice_size, nslices, next_slice; /* next_slice under the walk lock */
  atomic_size_t slices_left;
  struct unit *next_slicing; /* list of units with slices to hand out */
  struct unit *ahead;        /* the directory's next unit, read while this one is statted (or NULL) */
  int read_err;              /* a unit read ahead: what read_unit returned */
};

enum node_kind { NODE_OPEN, NODE_UNIT, NODE_RESUME, NODE_DONE };
enum node_state { STATE_PENDING, STATE_RUNNING, STATE_DONE };

struct node {
  struct node *parent;
  uint32_t index; /* among parent's children */
  uint32_t nchildren;
  struct node **children;
  struct node *qprev, *qnext; /* in the walk's queue while pending */
  int queued;
  int fd_held; /* holds a use of dir's descriptor (pending opens and units) */
  int kind, state;
  struct unit *unit; /* while its entries are being statted */
  struct unit *read_ahead; /* UNIT: already read while the previous unit was statted (or NULL) */
  struct dir *dir;   /* OPEN: the parent directory; UNIT: the directory */
  uint64_t cookie;   /* UNIT: where it starts; OPEN: the parent's unit that listed it */
  uint64_t dev, ino; /* OPEN: what the parent's statx saw */
  struct record *record;
  size_t name_len;
  char *name; /* OPEN: the name in the parent */
};

/** Where a resumed walk starts: the cursor of a checkpoint (see walker/checkpoint.ts). */
struct resume {
  size_t ncomponents;
  char **components;
  size_t *component_lens;
  uint64_t *cookies; /* ncomponents + 1, dense */
  int subtree_done;
};

struct settings {
  int64_t now_ns;
  int use_mtime;
  size_t nexclude;
  char **exclude;
  size_t *exclude_lens;
  int max_threads; /* requests in flight on a slow filesystem */
  int mode;        /* 0 adapt, 1 few threads (fast filesystem), 2 many (slow) */
  uint64_t root_dev, root_ino, root_mnt_id;
  int has_mnt_id;
};

/* dirs.c: descriptors, names and getdents */
struct dir *dir_new(int fd, struct dir *parent, const char *name, size_t name_len, uint64_t cookie_in_parent,
                    uint64_t dev, uint64_t ino);
void dir_ref(struct dir *d);
void dir_unref(struct dir *d);
void dir_use(struct dir *d);
void dir_unuse(struct dir *d);
int open_root(const char *path, int *fd, uint64_t *dev, uint64_t *ino, uint64_t *mnt_id, int *has_mnt_id);
int open_child(const struct settings *s, struct dir *parent, const char *name, uint64_t dev, uint64_t ino,
               int *fd_out, const char **code_out);
int read_unit(struct unit *u);
int stat_entry(const struct settings *s, int dirfd, const char *name, struct entry *e);
char *rel_path(const struct dir *d, const char *child, size_t child_len, size_t *len_out);
void errno_code(int err, char out[CODE_LEN]);
enum err_kind kind_of_open_error(int err);
int is_excluded(const struct settings *s, const char *name, size_t len);
int entry_is_subdir(const struct settings *s, const struct entry *e, const char *name);

/* account.c: records */
struct record *record_new(struct dir *d, uint64_t cookie);
void record_free(struct record *r);
int record_error(struct record *r, enum err_kind kind, const char *child, size_t child_len, int err,
                 const char *code);
int account_unit(const struct settings *s, struct unit *u, struct record *r, int root_first);
int record_serialize(const struct record *r, char **buf, size_t *len, size_t *cap);

/* scheduler.c: the engine */
struct engine;
typedef void (*deliver_fn)(void *ctx, char *buf, size_t len, int final, const char *error);
struct engine *engine_new(void);
int engine_start(struct engine *e, struct settings *s, int root_fd, struct resume *resume, deliver_fn deliver,
                 void *ctx);
void engine_stop(struct engine *e);
void engine_close(struct engine *e);
void settings_free(struct settings *s);
void resume_free(struct resume *r);

#endif
