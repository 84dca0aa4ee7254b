/* Records: what one unit of a directory adds to the totals, and their compact form for JavaScript. */
#include "walker.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define DAY_NS ((int64_t)86400 * 1000000000)

struct record *record_new(struct dir *d, uint64_t cookie) {
  struct record *r = calloc(1, sizeof(*r));
  if (r == NULL) return NULL;
  r->dir = d;
  dir_ref(d);
  r->cookie = cookie;
  return r;
}

void record_free(struct record *r) {
  if (r == NULL) return;
  for (int i = 0; i < r->nsamples; i++) free(r->samples[i].rel);
  free(r->links);
  free(r->child);
  dir_unref(r->dir);
  free(r);
}

static const int kind_counter[] = {C_UNREADABLE, C_VANISHED, C_OTHER_DEVICE, C_OTHER_MOUNT, C_OTHER_ERRORS};

/** Counts an error of `kind` at the record's directory (or its entry `child`), keeping a sample. */
static int add_error(struct record *r, enum err_kind kind, const char *child, size_t child_len, int err,
                     const char *code) {
  r->counts[kind_counter[kind]]++;
  if (r->nsamples >= MAX_SAMPLES) return 0;
  struct sample *sample = &r->samples[r->nsamples];
  sample->rel = rel_path(r->dir, child, child_len, &sample->rel_len);
  if (sample->rel == NULL) return ENOMEM;
  sample->kind = (uint8_t)kind;
  if (code != NULL) {
    strncpy(sample->code, code, CODE_LEN - 1);
    sample->code[CODE_LEN - 1] = '\0';
  } else {
    errno_code(err, sample->code);
  }
  r->nsamples++;
  return 0;
}

/** A record for a directory that could not be entered: the error, and the cursor past its subtree. */
int record_error(struct record *r, enum err_kind kind, const char *child, size_t child_len, int err,
                 const char *code) {
  if (child != NULL) {
    r->child = malloc(child_len + 1);
    if (r->child == NULL) return ENOMEM;
    memcpy(r->child, child, child_len);
    r->child[child_len] = '\0';
    r->child_len = child_len;
    r->subtree_done = 1;
  }
  return add_error(r, kind, child, child_len, err, code);
}

static int age_bucket(uint32_t days) { return days <= 30 ? 0 : days <= 60 ? 1 : days <= 90 ? 2 : days <= 120 ? 3 : 4; }

static int push_link(struct record *r, const struct entry *e, uint32_t days) {
  if (r->nlinks == r->cap_links) {
    size_t cap = r->cap_links == 0 ? 16 : r->cap_links * 2;
    struct link *grown = realloc(r->links, cap * sizeof(*grown));
    if (grown == NULL) return ENOMEM;
    r->links = grown;
    r->cap_links = cap;
  }
  r->links[r->nlinks++] = (struct link){
      .dev = e->dev, .ino = e->ino, .size = e->size, .allocated = e->blocks * 512, .nlink = e->nlink, .days = days};
  return 0;
}

/**
 * Adds the statted entries of a unit, in name order, to `r` (today's semantics: lstat sizes, allocated blocks,
 * multiply-linked files left to JavaScript, directories on another device or mount counted and not entered).
 * `root_first`: this is the root's first unit, which counts the root itself.
 */
int account_unit(const struct settings *s, struct unit *u, struct record *r, int root_first) {
  if (root_first) {
    r->counts[C_ENTRIES]++;
    r->counts[C_DIRECTORIES]++;
  }
  for (size_t i = 0; i < u->count; i++) {
    const struct entry *e = &u->entries[i];
    const char *name = u->names + e->name_off;
    int rc = 0;
    if (e->err != 0) {
      if (e->err == ENOENT || e->err == ENOTDIR || e->err == ELOOP) {
        rc = add_error(r, KIND_VANISHED, name, e->name_len, e->err, NULL);
      } else if (e->err == EACCES || e->err == EPERM) {
        /* Listable but not searchable (r without x): the directory is unreadable; its entries are skipped. */
        return add_error(r, KIND_UNREADABLE, NULL, 0, e->err, NULL);
      } else {
        rc = add_error(r, KIND_OTHER_ERRORS, name, e->name_len, e->err, NULL);
      }
      if (rc != 0) return rc;
      continue;
    }
    r->counts[C_ENTRIES]++;
    switch (e->mode & S_IFMT) {
    case S_IFREG: {
      int64_t age = s->now_ns - e->time_ns;
      uint32_t days = age <= 0 ? 0 : (uint32_t)(age / DAY_NS);
      if (e->nlink > 1) {
        rc = push_link(r, e, days);
        break;
      }
      int bucket = age_bucket(days);
      r->counts[C_FILES]++;
      r->counts[C_HIST0 + bucket]++;
      r->sums[S_BYTES] += e->size;
      r->sums[S_ALLOCATED] += (u128)e->blocks * 512;
      r->sums[S_BYTE_DAYS] += (u128)e->size * ((u128)days + 1);
      r->sums[S_HIST0 + bucket] += e->size;
      break;
    }
    case S_IFDIR:
      r->counts[C_DIRECTORIES]++;
      if (e->dev != s->root_dev) {
        rc = add_error(r, KIND_OTHER_DEVICE, name, e->name_len, 0, "EXDEV");
      } else if (e->mount_root || (s->has_mnt_id && e->mnt_id != s->root_mnt_id)) {
        rc = add_error(r, KIND_OTHER_MOUNT, name, e->name_len, 0, "EXDEV");
      }
      break;
    case S_IFLNK:
      r->counts[C_SYMLINKS]++;
      break;
    default:
      r->counts[C_OTHERS]++;
    }
    if (rc != 0) return rc;
  }
  return 0;
}

/* ---- serialization (walker/record-decoder.ts reads this) ---- */

static int reserve(char **buf, size_t *len, size_t *cap, size_t more) {
  if (*len + more <= *cap) return 0;
  size_t next = *cap == 0 ? 65536 : *cap;
  while (next < *len + more) next *= 2;
  char *grown = realloc(*buf, next);
  if (grown == NULL) return ENOMEM;
  *buf = grown;
  *cap = next;
  return 0;
}

static void put(char **buf, size_t *len, const void *data, size_t n) {
  memcpy(*buf + *len, data, n);
  *len += n;
}

static void put_u32(char **buf, size_t *len, uint32_t v) { put(buf, len, &v, 4); }

/** An exact sum as a length byte and decimal digits. */
static void put_u128(char **buf, size_t *len, u128 v) {
  char digits[40];
  int n = 0;
  do {
    digits[n++] = (char)('0' + (int)(v % 10));
    v /= 10;
  } while (v != 0);
  (*buf)[(*len)++] = (char)n;
  while (n > 0) (*buf)[(*len)++] = digits[--n];
}

/**
 * Appends one record: flags, path, unit cookies ("level:cookie" for each non-zero level, comma-separated),
 * counts, sums, samples, multiply-linked files. Little-endian, unaligned.
 */
int record_serialize(const struct record *r, char **buf, size_t *len, size_t *cap) {
  size_t rel_len = 0;
  char *rel = rel_path(r->dir, r->child, r->child_len, &rel_len);
  if (rel == NULL) return ENOMEM;
  /* Cookies, from the record's level up to the root. */
  size_t units_cap = 64, units_len = 0;
  char *units = malloc(units_cap);
  if (units == NULL) {
    free(rel);
    return ENOMEM;
  }
  uint64_t cookie = r->cookie;
  for (const struct dir *d = r->dir; d != NULL; d = d->parent) {
    if (cookie != 0) {
      if (units_len + 48 > units_cap) {
        units_cap *= 2;
        char *grown = realloc(units, units_cap);
        if (grown == NULL) {
          free(units);
          free(rel);
          return ENOMEM;
        }
        units = grown;
      }
      char piece[48];
      int n = snprintf(piece, sizeof(piece), "%s%u:%llu", units_len > 0 ? "," : "", d->depth,
                       (unsigned long long)cookie);
      memcpy(units + units_len, piece, (size_t)n);
      units_len += (size_t)n;
    }
    cookie = d->cookie_in_parent;
  }
  size_t samples_size = 0;
  for (int i = 0; i < r->nsamples; i++) samples_size += 2 + CODE_LEN + 4 + r->samples[i].rel_len;
  size_t need = 12 + rel_len + units_len + 4 * C_COUNT + 41 * S_COUNT + 4 + samples_size + 4 + r->nlinks * 100;
  if (reserve(buf, len, cap, need) != 0) {
    free(units);
    free(rel);
    return ENOMEM;
  }
  put_u32(buf, len, r->subtree_done ? 1u : 0u);
  put_u32(buf, len, (uint32_t)rel_len);
  put(buf, len, rel, rel_len);
  put_u32(buf, len, (uint32_t)units_len);
  put(buf, len, units, units_len);
  free(units);
  free(rel);
  for (int i = 0; i < C_COUNT; i++) put_u32(buf, len, r->counts[i]);
  for (int i = 0; i < S_COUNT; i++) put_u128(buf, len, r->sums[i]);
  put_u32(buf, len, (uint32_t)r->nsamples);
  for (int i = 0; i < r->nsamples; i++) {
    const struct sample *sample = &r->samples[i];
    size_t code_len = strlen(sample->code);
    (*buf)[(*len)++] = (char)sample->kind;
    (*buf)[(*len)++] = (char)code_len;
    put(buf, len, sample->code, code_len);
    put_u32(buf, len, (uint32_t)sample->rel_len);
    put(buf, len, sample->rel, sample->rel_len);
  }
  put_u32(buf, len, (uint32_t)r->nlinks);
  for (size_t i = 0; i < r->nlinks; i++) {
    const struct link *l = &r->links[i];
    double dev = (double)l->dev;
    put(buf, len, &dev, 8);
    put_u32(buf, len, (uint32_t)(l->ino >> 32));
    put_u32(buf, len, (uint32_t)l->ino);
    put_u32(buf, len, l->nlink);
    put_u32(buf, len, l->days);
    put_u128(buf, len, l->size);
    put_u128(buf, len, l->allocated);
  }
  return 0;
}
