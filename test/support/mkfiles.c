/*
 * Creates COUNT empty files named PREFIX0000000, PREFIX0000001, ... in DIR, fast (one openat each): the big
 * directories of the memory test and the benchmark.
 *
 *   mkfiles DIR COUNT PREFIX
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

int main(int argc, char **argv) {
  if (argc != 4) {
    fprintf(stderr, "usage: mkfiles DIR COUNT PREFIX\n");
    return 2;
  }
  int dir_fd = open(argv[1], O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dir_fd < 0) {
    perror(argv[1]);
    return 1;
  }
  long count = strtol(argv[2], NULL, 10);
  char name[4096];
  for (long i = 0; i < count; i++) {
    snprintf(name, sizeof name, "%s%07ld", argv[3], i);
    int fd = openat(dir_fd, name, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
    if (fd < 0) {
      perror(name);
      return 1;
    }
    close(fd);
  }
  return 0;
}
