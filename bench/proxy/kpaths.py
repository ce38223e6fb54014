#!/usr/bin/env python3
"""Kernel time per request by syscall path, from a perf record -g of one proxy process.

  bench/proxy/kpaths.py PERF_DATA CPU_MS_PER_1K   (alloc.sh PROFILE=S writes WORK/<run>/perf.data and
  prints the CPU per 1k; decision 0037, addendum 10)

Each sample is put under the first system call its kernel frames pass through (writev, sendto,
recvfrom, epoll_wait/pwait2, read, write, other syscall), or 'user' when no kernel frame, or
'kernel, no syscall' (interrupts, page faults); within a path, the share that also passes through a
few kernel functions (the loopback receive, wake-ups, copies). A sample's share times the process's
CPU per 1,000 requests is that path's ms per 1k (perf -F samples CPU time)."""
import collections, subprocess, sys

data, ms1k = sys.argv[1], float(sys.argv[2])
out = subprocess.run(['perf', 'script', '-i', data, '-F', 'ip,sym,dso'], capture_output=True, text=True).stdout
PATHS = [('writev', 'do_writev'), ('sendto', '__sys_sendto'), ('recvfrom', '__sys_recvfrom'),
         ('epoll', 'do_epoll_wait'), ('read', 'ksys_read'), ('write', 'ksys_write'), ('other syscall', 'do_syscall_64')]
SUBS = ['tcp_v4_rcv', 'try_to_wake_up', '_copy_from_iter', '_copy_to_iter', 'tcp_write_xmit', 'tcp_ack',
        'sock_def_readable', '__schedule', 'import_iovec']
c = collections.Counter(); n = 0
for block in out.split('\n\n'):
    frames = [l.split(None, 1)[1] for l in block.strip().split('\n') if l.strip() and len(l.split(None, 1)) > 1]
    if not frames:
        continue
    n += 1
    kernel = [f.split(' (')[0] for f in frames if 'kernel.kallsyms' in f]
    if not kernel:
        c['user'] += 1; continue
    for name, fn in PATHS:
        if any(k.startswith(fn) for k in kernel):
            c[name] += 1
            for s in SUBS:
                if any(k.startswith(s) for k in kernel):
                    c[name + ' / ' + s] += 1
            break
    else:
        c['kernel, no syscall'] += 1
for k, v in sorted(c.items(), key=lambda kv: (kv[0].split(' / ')[0], len(kv[0]))):
    print(f'{k:36} {100 * v / n:6.2f}% {ms1k * v / n:6.2f} ms/1k')
