/* Directories: opening them relative to their parent's descriptor, checked; reading units with getdents64. */
#include "walker.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/syscall.h>
#include <unistd.h>

#define OPEN_DIR_FLAGS (O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK)
#define STAT_FLAGS (AT_SYMLINK_NOFOLLOW | AT_NO_AUTOMOUNT | AT_STATX_SYNC_AS_STAT)
#define STAT_MASK                                                                                                \
  (STATX_TYPE | STATX_MODE | STATX_NLINK | STATX_INO | STATX_SIZE | STATX_BLOCKS | STATX_MTIME | STATX_CTIME |   \
   STATX_MNT_ID)
#define GETDENTS_BUFFER 65536

#ifndef STATX_ATTR_MOUNT_ROOT
#define STATX_ATTR_MOUNT_ROOT 0x00002000
#endif

/** What getdents64 writes (the kernel's struct linux_dirent64; glibc's struct dirent64 is readdir's). */
struct raw_dirent64 {
  uint64_t d_ino;
  int64_t d_off;
  unsigned short d_reclen;
  unsigned char d_type;
  char d_name[];
};

struct dir *dir_new(int fd, struct dir *parent, const char *name, size_t name_len, uint64_t cookie_in_parent,
                    uint64_t dev, uint64_t ino) {
  struct dir *d = malloc(sizeof(*d) + name_len + 1);
  if (d == NULL) return NULL;
  d->fd = fd;
  d->open_fds = parent != NULL ? parent->open_fds : NULL;
  if (d->open_fds != NULL && fd >= 0) atomic_fetch_add_explicit(d->open_fds, 1, memory_order_relaxed);
  atomic_init(&d->fd_users, 0);
  atomic_init(&d->refs, 1);
  d->parent = parent;
  if (parent != NULL) dir_ref(parent);
  d->depth = parent == NULL ? 0 : parent->depth + 1;
  d->cookie_in_parent = cookie_in_parent;
  d->dev = dev;
  d->ino = ino;
  d->name_len = name_len;
  memcpy(d->name, name, name_len);
  d->name[name_len] = '\0';
  return d;
}

void dir_ref(struct dir *d) { atomic_fetch_add_explicit(&d->refs, 1, memory_order_relaxed); }

void dir_unref(struct dir *d) {
  /* Iterative: a chain of 10,000 nested directories must not recurse 10,000 deep. */
  while (d != NULL && atomic_fetch_sub_explicit(&d->refs, 1, memory_order_acq_rel) == 1) {
    struct dir *parent = d->parent;
    if (d->fd >= 0) {
      close(d->fd);
      if (d->open_fds != NULL) atomic_fetch_sub_explicit(d->open_fds, 1, memory_order_relaxed);
    }
    free(d);
    d = parent;
  }
}

/** One more unit or child open will need the descriptor. */
void dir_use(struct dir *d) { atomic_fetch_add_explicit(&d->fd_users, 1, memory_order_relaxed); }

/** A user of the descriptor is done; the last one closes it (the name stays for display). */
void dir_unuse(struct dir *d) {
  if (atomic_fetch_sub_explicit(&d->fd_users, 1, memory_order_acq_rel) == 1 && d->fd >= 0) {
    close(d->fd);
    if (d->open_fds != NULL) atomic_fetch_sub_explicit(d->open_fds, 1, memory_order_relaxed);
    d->fd = -1;
  }
}

/**
 * Opens a directory (relative to dirfd, without following a symlink) and statx's the descriptor; 0 or errno.
 * The descriptor's statx asks only for what identifies the inode (type, inode number; device and mount come from
 * the kernel's own structures), which a network filesystem's cached attributes already hold: AT_STATX_DONT_SYNC
 * spares a GETATTR round trip per directory there (latfs counted one per directory) and changes nothing on a
 * local filesystem, which ignores it.
 */
static int open_and_stat(int dirfd, const char *name, int *fd_out, struct statx *st) {
  int fd = openat(dirfd, name, OPEN_DIR_FLAGS);
  if (fd < 0) return errno;
  if (statx(fd, "", AT_EMPTY_PATH | AT_STATX_DONT_SYNC, STATX_TYPE | STATX_INO | STATX_MNT_ID, st) != 0) {
    int err = errno;
    close(fd);
    return err;
  }
  *fd_out = fd;
  return 0;
}

static uint64_t dev_of(const struct statx *st) { return makedev(st->stx_dev_major, st->stx_dev_minor); }

/** Opens the root without following a symlink; returns 0 or an errno. */
int open_root(const char *path, int *fd, uint64_t *dev, uint64_t *ino, uint64_t *mnt_id, int *has_mnt_id) {
  struct statx st;
  int err = open_and_stat(AT_FDCWD, path, fd, &st);
  if (err != 0) return err;
  *dev = dev_of(&st);
  *ino = st.stx_ino;
  *has_mnt_id = (st.stx_mask & STATX_MNT_ID) != 0;
  *mnt_id = *has_mnt_id ? st.stx_mnt_id : 0;
  return 0;
}

/**
 * Opens `name` in `parent`, which its parent's statx saw as directory dev/ino: with O_NOFOLLOW, then checks
 * that the descriptor is that very inode, on the walk's mount. Returns 0, or an errno with *code_out set when
 * the check failed (ECHANGED: something else is there now; it is never entered).
 */
int open_child(const struct settings *s, struct dir *parent, const char *name, uint64_t dev, uint64_t ino,
               int *fd_out, const char **code_out) {
  *code_out = NULL;
  int fd = -1;
  struct statx st;
  int err = open_and_stat(parent->fd, name, &fd, &st);
  if (err != 0) return err;
  int other_mount = s->has_mnt_id && (st.stx_mask & STATX_MNT_ID) && st.stx_mnt_id != s->root_mnt_id;
  if (dev_of(&st) != dev || st.stx_ino != ino || dev != s->root_dev || other_mount) {
    close(fd);
    *code_out = "ECHANGED";
    return ESTALE;
  }
  *fd_out = fd;
  return 0;
}

static int compare_entries(const void *a, const void *b, void *arg) {
  const struct entry *x = a, *y = b;
  const char *names = arg;
  size_t n = x->name_len < y->name_len ? x->name_len : y->name_len;
  int c = memcmp(names + x->name_off, names + y->name_off, n);
  if (c != 0) return c;
  return (x->name_len > y->name_len) - (x->name_len < y->name_len);
}

/**
 * Reads the unit at u->cookie: up to UNIT_ENTRIES raw entries, names into one arena, sorted bytewise. Sets
 * next_cookie and eof. Returns 0 or an errno. Units of one directory never read concurrently (the next is
 * created when this one is done), so the descriptor's offset is ours.
 */
int read_unit(struct unit *u) {
  int fd = u->dir->fd;
  if (lseek(fd, (off_t)u->cookie, SEEK_SET) < 0) return errno;
  char *buf = malloc(GETDENTS_BUFFER);
  size_t names_cap = 16384, names_len = 0, cap = 256, raw = 0;
  char *names = malloc(names_cap);
  struct entry *entries = malloc(cap * sizeof(*entries));
  int err = 0;
  if (buf == NULL || names == NULL || entries == NULL) {
    err = ENOMEM;
    goto fail;
  }
  u->count = 0;
  u->eof = 0;
  u->next_cookie = u->cookie;
  while (raw < UNIT_ENTRIES) {
    long n = syscall(SYS_getdents64, fd, buf, GETDENTS_BUFFER);
    if (n < 0) {
      if (errno == EINTR) continue;
      err = errno;
      goto fail;
    }
    if (n == 0) {
      u->eof = 1;
      break;
    }
    long pos = 0;
    while (pos < n && raw < UNIT_ENTRIES) {
      struct raw_dirent64 *d = (struct raw_dirent64 *)(buf + pos);
      pos += d->d_reclen;
      raw++;
      u->next_cookie = (uint64_t)d->d_off;
      size_t len = strlen(d->d_name);
      if ((len == 1 && d->d_name[0] == '.') || (len == 2 && d->d_name[0] == '.' && d->d_name[1] == '.')) continue;
      if (names_len + len + 1 > names_cap) {
        while (names_len + len + 1 > names_cap) names_cap *= 2;
        char *grown = realloc(names, names_cap);
        if (grown == NULL) {
          err = ENOMEM;
          goto fail;
        }
        names = grown;
      }
      if (u->count == cap) {
        cap *= 2;
        struct entry *grown = realloc(entries, cap * sizeof(*entries));
        if (grown == NULL) {
          err = ENOMEM;
          goto fail;
        }
        entries = grown;
      }
      struct entry *e = &entries[u->count++];
      memset(e, 0, sizeof(*e));
      e->name_off = (uint32_t)names_len;
      e->name_len = (uint16_t)len;
      e->d_type = d->d_type;
      memcpy(names + names_len, d->d_name, len + 1);
      names_len += len + 1;
    }
    if (raw >= UNIT_ENTRIES && pos >= n) {
      /* The unit ends exactly at a buffer's end: the directory may or may not have more. */
      break;
    }
  }
  free(buf);
  qsort_r(entries, u->count, sizeof(*entries), compare_entries, names);
  u->names = names;
  u->entries = entries;
  return 0;
fail:
  free(buf);
  free(names);
  free(entries);
  u->count = 0;
  return err;
}

/**
 * statx of one entry, relative to its directory's descriptor; fills e (e->err on failure).
 *
 * An entry getdents calls a directory is asked with AT_STATX_DONT_SYNC: of a directory the walk uses only its type,
 * inode, device and mount, which no cached attribute can get wrong (the name is still looked up, and revalidated,
 * as always), and on a network filesystem whose directory entries outlive their attributes (NFS, latfs: 60 s
 * against 1 ms) it spares a GETATTR round trip per directory. If the name is not a directory any more (or the
 * call failed), it is asked again in full: a file's size and times must be the server's.
 */
int stat_entry(const struct settings *s, int dirfd, const char *name, struct entry *e) {
  struct statx st;
  int rc = -1;
  if (e->d_type == DT_DIR) {
    rc = statx(dirfd, name, STAT_FLAGS | AT_STATX_DONT_SYNC, STAT_MASK, &st);
    if (rc == 0 && !S_ISDIR(st.stx_mode)) rc = -1;
  }
  if (rc != 0 && statx(dirfd, name, STAT_FLAGS, STAT_MASK, &st) != 0) {
    e->err = errno;
    return e->err;
  }
  e->err = 0;
  e->mode = st.stx_mode;
  e->nlink = st.stx_nlink;
  e->dev = dev_of(&st);
  e->ino = st.stx_ino;
  e->size = st.stx_size;
  e->blocks = st.stx_blocks;
  e->mnt_id = (st.stx_mask & STATX_MNT_ID) ? st.stx_mnt_id : s->root_mnt_id;
  e->mount_root = (st.stx_attributes_mask & STATX_ATTR_MOUNT_ROOT) && (st.stx_attributes & STATX_ATTR_MOUNT_ROOT);
  const struct statx_timestamp *t = s->use_mtime ? &st.stx_mtime : &st.stx_ctime;
  e->time_ns = (int64_t)t->tv_sec * 1000000000 + t->tv_nsec;
  return 0;
}

/** The display path of `d` (plus "/child" when given), relative to the root; malloc'ed, not NUL-terminated. */
char *rel_path(const struct dir *d, const char *child, size_t child_len, size_t *len_out) {
  size_t len = 0;
  for (const struct dir *p = d; p->parent != NULL; p = p->parent) len += p->name_len + 1;
  if (child != NULL) len += child_len + 1;
  if (len > 0) len--; /* no leading slash */
  char *out = malloc(len + 1);
  if (out == NULL) return NULL;
  size_t end = len;
  if (child != NULL) {
    memcpy(out + end - child_len, child, child_len);
    end -= child_len;
    if (end > 0) out[--end] = '/';
  }
  for (const struct dir *p = d; p->parent != NULL; p = p->parent) {
    memcpy(out + end - p->name_len, p->name, p->name_len);
    end -= p->name_len;
    if (end > 0) out[--end] = '/';
  }
  out[len] = '\0';
  *len_out = len;
  return out;
}

void errno_code(int err, char out[CODE_LEN]) {
  const char *name = strerrorname_np(err);
  if (name != NULL) snprintf(out, CODE_LEN, "%s", name);
  else snprintf(out, CODE_LEN, "E%d", err);
}

enum err_kind kind_of_open_error(int err) {
  if (err == EACCES || err == EPERM) return KIND_UNREADABLE;
  if (err == ENOENT || err == ENOTDIR || err == ELOOP || err == ESTALE) return KIND_VANISHED;
  return KIND_OTHER_ERRORS;
}

int is_excluded(const struct settings *s, const char *name, size_t len) {
  for (size_t i = 0; i < s->nexclude; i++) {
    if (s->exclude_lens[i] == len && memcmp(s->exclude[i], name, len) == 0) return 1;
  }
  return 0;
}

/** A statted entry the walk enters: a directory on the root's device and mount, not excluded. */
int entry_is_subdir(const struct settings *s, const struct entry *e, const char *name) {
  if (e->err != 0 || !S_ISDIR(e->mode) || e->dev != s->root_dev) return 0;
  if (e->mount_root || (s->has_mnt_id && e->mnt_id != s->root_mnt_id)) return 0;
  return !is_excluded(s, name, e->name_len);
}
