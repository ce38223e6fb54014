# Summary of bench/proxy/run.sh's rounds. Input rows: round proxy rps p50_ms p99_ms rss_mb pss_mb
# pdirty_mb cpu_ms/1k_req ready_s cpu_% usr_ms/1k sys_ms/1k. Prints each proxy's median of every column, then for every
# proxy but the peers the median over the rounds of its per-round ratios: P99 against HAProxy's and
# CPU per request against NGINX's (the issue's targets), each round's pair measured minutes apart.
function median(key, n,    a, i, j, t) {
  for (i = 1; i <= n; i++) a[i] = vals[key, i]
  for (i = 2; i <= n; i++) { t = a[i]; for (j = i - 1; j >= 1 && a[j] > t; j--) a[j + 1] = a[j]; a[j + 1] = t }
  return n % 2 ? a[(n + 1) / 2] : (a[n / 2] + a[n / 2 + 1]) / 2
}
function add(key, v) { vals[key, ++count[key]] = v }
{
  if (!($2 in seen)) { seen[$2] = 1; order[++names] = $2 }
  for (c = 3; c <= NF; c++) add($2 SUBSEP c, $c)
  p99[$1, $2] = $5; cpu[$1, $2] = $9; if ($1 > maxr) maxr = $1
}
END {
  printf "%-13s %10s %10s %10s %10s %8s %9s %14s %8s %8s %8s %8s\n", "proxy", "rps", "p50_ms", "p99_ms", "rss_mb", "pss_mb", "pdirty_mb", "cpu_ms/1k_req", "ready_s", "cpu_%", "usr/1k", "sys/1k"
  for (i = 1; i <= names; i++) {
    n = order[i]
    printf "%-13s", n
    for (c = 3; c <= 13 && count[n SUBSEP c]; c++) printf(c >= 12 ? " %8.2f" : c == 7 ? " %8.0f" : c == 8 ? " %9.0f" : c == 9 ? " %14.2f" : c == 10 ? " %8.2f" : c == 11 ? " %8.0f" : c == 6 ? " %10.0f" : c == 3 ? " %10.0f" : " %10.2f", median(n SUBSEP c, count[n SUBSEP c]))
    printf "\n"
  }
  for (i = 1; i <= names; i++) {
    n = order[i]
    if (n == "nginx" || n == "haproxy") continue
    k = 0; line = ""
    for (r = 1; r <= maxr; r++) if ((r, "haproxy") in p99 && (r, n) in p99 && p99[r, "haproxy"] > 0) {
      add("p99r" n, p99[r, n] / p99[r, "haproxy"]); k++; line = line sprintf(" %.2f", p99[r, n] / p99[r, "haproxy"])
    }
    if (k) printf "%s P99 / HAProxy P99: median %.2fx (rounds:%s)\n", n, median("p99r" n, k), line
    k = 0; line = ""
    for (r = 1; r <= maxr; r++) if ((r, "nginx") in cpu && (r, n) in cpu && cpu[r, "nginx"] > 0) {
      add("cpur" n, cpu[r, n] / cpu[r, "nginx"]); k++; line = line sprintf(" %.2f", cpu[r, n] / cpu[r, "nginx"])
    }
    if (k) printf "%s CPU per request / NGINX's: median %.2fx (rounds:%s)\n", n, median("cpur" n, k), line
  }
}
