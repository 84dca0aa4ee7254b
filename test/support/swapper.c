/*
 * The attacker of test/walker/race.test.ts: swaps each pair of names given (relative to DIR) with
 * renameat2(RENAME_EXCHANGE) in a tight loop until SIGTERM, and counts the swaps that succeeded in an 8-byte
 * counter file mapped shared, so the test can read how many swaps happened while each walk ran.
 *
 *   swapper COUNTER DIR A1 B1 [A2 B2 ...]
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>

static volatile sig_atomic_t stop = 0;

static void on_term(int sig) {
  (void)sig;
  stop = 1;
}

int main(int argc, char **argv) {
  if (argc < 5 || (argc - 3) % 2 != 0) {
    fprintf(stderr, "usage: swapper COUNTER DIR A1 B1 [A2 B2 ...]\n");
    return 2;
  }
  int counter_fd = open(argv[1], O_RDWR | O_CLOEXEC);
  if (counter_fd < 0 || ftruncate(counter_fd, sizeof(uint64_t)) != 0) {
    perror(argv[1]);
    return 1;
  }
  volatile uint64_t *counter =
      mmap(NULL, sizeof(uint64_t), PROT_READ | PROT_WRITE, MAP_SHARED, counter_fd, 0);
  if (counter == MAP_FAILED) {
    perror("mmap");
    return 1;
  }
  int dir_fd = open(argv[2], O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dir_fd < 0) {
    perror(argv[2]);
    return 1;
  }
  signal(SIGTERM, on_term);
  signal(SIGINT, on_term);
  int pairs = (argc - 3) / 2;
  uint64_t failures = 0;
  while (!stop) {
    for (int i = 0; i < pairs; i++) {
      if (renameat2(dir_fd, argv[3 + 2 * i], dir_fd, argv[4 + 2 * i], RENAME_EXCHANGE) == 0) {
        *counter = *counter + 1;
      } else if (++failures == 1) {
        perror("renameat2");
      }
    }
  }
  printf("%llu %llu\n", (unsigned long long)*counter, (unsigned long long)failures);
  return 0;
}
