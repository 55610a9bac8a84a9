/* `bun run bench` floor: a do-nothing relay in C (fork/exec the server, poll, copy bytes both ways). The cheapest any extra process on the pipe can be.
 * usage: cc -O2 -o relay scripts/bench-relay.c && ./relay CMD ARGS... */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include "bench-write-all.h"

int main(int argc, char **argv) {
  if (argc < 2) {
    fprintf(stderr, "usage: relay CMD ARGS...\n");
    return 2;
  }
  int to_child[2], from_child[2];
  if (pipe(to_child) != 0 || pipe(from_child) != 0) return 71;
  signal(SIGPIPE, SIG_IGN);
  pid_t pid = fork();
  if (pid < 0) return 71;
  if (pid == 0) {
    dup2(to_child[0], 0);
    dup2(from_child[1], 1);
    close(to_child[0]), close(to_child[1]), close(from_child[0]), close(from_child[1]);
    execvp(argv[1], argv + 1);
    _exit(127);
  }
  close(to_child[0]);
  close(from_child[1]);
  struct pollfd fds[2] = {{.fd = 0, .events = POLLIN}, {.fd = from_child[0], .events = POLLIN}};
  static char buf[1 << 16];
  int open_inputs = 2;
  while (open_inputs > 0) {
    if (poll(fds, 2, -1) < 0) {
      if (errno == EINTR) continue;
      break;
    }
    for (int i = 0; i < 2; i++) {
      if (fds[i].fd < 0 || !(fds[i].revents & (POLLIN | POLLHUP | POLLERR))) continue;
      ssize_t n = read(fds[i].fd, buf, sizeof buf);
      if (n > 0 && write_all(i == 0 ? to_child[1] : 1, buf, n) == 0) continue;
      if (n < 0 && errno == EINTR) continue;
      /* EOF (or a reader gone): client EOF closes the server's stdin; server EOF ends the relay. */
      if (i == 0) close(to_child[1]);
      fds[i].fd = -1;
      open_inputs--;
      if (i == 1) open_inputs = 0;
    }
  }
  int status = 0;
  while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}
