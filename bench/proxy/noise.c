// bench/proxy/run.sh NOISE=P: a controlled disturbance on the proxy's core, the same for every
// proxy. Bursts of BURST_US of CPU with gaps drawn from an exponential distribution of mean
// BURST_US * (100 - P) / P (fixed seed: every run meets the same sequence), so P% of the core in
// the long run, arriving at random as a neighbour's time slices do. With "fifo" the process runs
// SCHED_FIFO: a burst takes the core from any ordinary thread at once and keeps it for its whole
// length, as a host that runs another vCPU takes this one's (steal time); nothing the proxy does
// can win it back, so every proxy meets the same stalls. With "other" it is an ordinary (nice 0)
// process the kernel's fair scheduler weighs against the proxy's threads.
//
//   noise PERCENT BURST_US fifo|other
#include <math.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static long long ns(clockid_t c) {
  struct timespec t;
  clock_gettime(c, &t);
  return t.tv_sec * 1000000000LL + t.tv_nsec;
}

int main(int argc, char **argv) {
  if (argc != 4) {
    fprintf(stderr, "usage: noise PERCENT BURST_US fifo|other\n");
    return 2;
  }
  double pct = atof(argv[1]);
  long long burst = atoll(argv[2]) * 1000LL;
  if (pct <= 0 || pct >= 100 || burst <= 0) {
    fprintf(stderr, "noise: PERCENT in (0, 100), BURST_US > 0\n");
    return 2;
  }
  if (strcmp(argv[3], "fifo") == 0) {
    struct sched_param sp = {.sched_priority = 1};
    if (sched_setscheduler(0, SCHED_FIFO, &sp) != 0) {
      perror("noise: SCHED_FIFO");
      return 1;
    }
  }
  double mean_gap = burst * (100 - pct) / pct;
  srand48(6);
  long long next = ns(CLOCK_MONOTONIC);
  for (;;) {
    // a burst: BURST_US of this thread's own CPU time (under fifo the same as wall time)
    long long end = ns(CLOCK_THREAD_CPUTIME_ID) + burst;
    while (ns(CLOCK_THREAD_CPUTIME_ID) < end) {
    }
    next = ns(CLOCK_MONOTONIC) + (long long)(-mean_gap * log(1 - drand48()));
    struct timespec t = {next / 1000000000LL, next % 1000000000LL};
    clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &t, NULL);
  }
}
