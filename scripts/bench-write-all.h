/* Shared by the benches' C relays (bench-relay.c, bench-tcp-relay.c). */
#ifndef BENCH_WRITE_ALL_H
#define BENCH_WRITE_ALL_H
#include <errno.h>
#include <unistd.h>

/* Writes all of buf to fd; returns -1 when the reader is gone (the caller ignores SIGPIPE). */
static int write_all(int fd, const char *buf, ssize_t n) {
  while (n > 0) {
    ssize_t w = write(fd, buf, (size_t)n);
    if (w < 0) {
      if (errno == EINTR) continue;
      return -1;
    }
    buf += w;
    n -= w;
  }
  return 0;
}
#endif
