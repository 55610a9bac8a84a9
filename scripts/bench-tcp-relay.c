/* `bun run bench:http` floor: a do-nothing TCP relay in C (accept, connect to the upstream, poll, copy bytes both
 * ways, no HTTP parsing). What the extra hop alone costs on this machine: any HTTP proxy pays at least this.
 * usage: cc -O2 -o tcp-relay scripts/bench-tcp-relay.c && ./tcp-relay UPSTREAM_PORT  (prints {"port":N}) */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "bench-write-all.h"

#define MAX_PAIRS 512

/* fds[0] is the listener; then pairs: fds[1 + 2k] the client side, fds[2 + 2k] its upstream connection. */
static struct pollfd fds[1 + 2 * MAX_PAIRS];
static int pairs = 0;

static void no_delay(int fd) {
  int one = 1;
  setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
}

/* Closes pair k and moves the last pair into its place. */
static void drop_pair(int k) {
  close(fds[1 + 2 * k].fd);
  close(fds[2 + 2 * k].fd);
  pairs--;
  fds[1 + 2 * k] = fds[1 + 2 * pairs];
  fds[2 + 2 * k] = fds[2 + 2 * pairs];
}

int main(int argc, char **argv) {
  if (argc != 2) {
    fprintf(stderr, "usage: tcp-relay UPSTREAM_PORT\n");
    return 2;
  }
  signal(SIGPIPE, SIG_IGN); /* a closed peer shows as a failed write */
  struct sockaddr_in upstream = {.sin_family = AF_INET, .sin_port = htons((unsigned short)atoi(argv[1]))};
  inet_pton(AF_INET, "127.0.0.1", &upstream.sin_addr);
  int listener = socket(AF_INET, SOCK_STREAM, 0);
  int one = 1;
  setsockopt(listener, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  struct sockaddr_in local = {.sin_family = AF_INET, .sin_port = 0};
  inet_pton(AF_INET, "127.0.0.1", &local.sin_addr);
  socklen_t length = sizeof local;
  if (bind(listener, (struct sockaddr *)&local, sizeof local) != 0 || listen(listener, 1024) != 0 ||
      getsockname(listener, (struct sockaddr *)&local, &length) != 0) {
    perror("tcp-relay: listen");
    return 71;
  }
  printf("{\"port\":%d}\n", ntohs(local.sin_port));
  fflush(stdout);
  fds[0] = (struct pollfd){.fd = listener, .events = POLLIN};
  static char buf[1 << 16];
  for (;;) {
    if (poll(fds, (nfds_t)(1 + 2 * pairs), -1) < 0) {
      if (errno == EINTR) continue;
      return 71;
    }
    if (fds[0].revents & POLLIN) {
      int client = accept(listener, NULL, NULL);
      if (client >= 0) {
        int server = socket(AF_INET, SOCK_STREAM, 0);
        if (pairs == MAX_PAIRS || connect(server, (struct sockaddr *)&upstream, sizeof upstream) != 0) {
          close(client);
          close(server);
        } else {
          no_delay(client);
          no_delay(server);
          fds[1 + 2 * pairs] = (struct pollfd){.fd = client, .events = POLLIN};
          fds[2 + 2 * pairs] = (struct pollfd){.fd = server, .events = POLLIN};
          pairs++;
        }
      }
    }
    for (int k = 0; k < pairs; k++) {
      for (int side = 0; side < 2; side++) {
        struct pollfd *from = &fds[1 + 2 * k + side];
        if (!(from->revents & (POLLIN | POLLHUP | POLLERR))) continue;
        from->revents = 0;
        ssize_t n = recv(from->fd, buf, sizeof buf, 0);
        int to = fds[1 + 2 * k + (1 - side)].fd;
        if (n <= 0 || write_all(to, buf, n) != 0) {
          drop_pair(k);
          k--; /* the last pair moved here: look at it too */
          break;
        }
      }
    }
  }
}
