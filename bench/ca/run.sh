#!/usr/bin/env bash
# CA throughput: parse + verify CSR + sign (ECDSA P-256), one thread = one core, beside raw
# ECDSA P-256 sign/verify in the JDK, in Bouncy Castle and in OpenSSL (`openssl speed ecdsap256`),
# all measured in this one run. About 90 s. Prints a table; raw JMH CSV in bench/ca/target/.
#   BENCH_JMH_ARGS   override the JMH run options (default: 1 fork, 4x2 s warm-up, 3x2 s measured;
#                    SunEC's verify needs ~5 s of warm-up before C2 has compiled its field arithmetic)
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
# shellcheck source=../../tools/find-java.sh
. "$root/tools/find-java.sh"
bowline_find_java || exit 1
here="$root/bench/ca"
out="$here/target"

"$root/mvnw" -q -f "$root/pom.xml" package -pl bench/ca -am -DskipTests -Dspotless.check.skip=true
cp="$out/classes:$(cat "$out/classpath.txt")"
csv="$out/jmh-ca.csv"
jmh_args=${BENCH_JMH_ARGS:-"-f 1 -wi 4 -w 2s -i 3 -r 2s"}
# shellcheck disable=SC2086
"$JAVA_HOME/bin/java" -cp "$cp" org.openjdk.jmh.Main $jmh_args -rf csv -rff "$csv" \
  'dev.bowline.ca.(CsrSigningBenchmark|EcdsaP256Benchmark)' >"$out/jmh-ca.log" 2>&1 ||
  { tail -n 30 "$out/jmh-ca.log" >&2; exit 1; }

openssl_out=$(openssl speed -seconds 3 ecdsap256 2>/dev/null)
read -r ossl_sign ossl_verify < <(awk '/ecdsa \(nistp256\)/ {print $(NF-1), $NF}' <<<"$openssl_out")

# percpu BENCHMARK PARAM: operations per CPU-second of the benchmark thread (score / cpu share)
# wall BENCHMARK PARAM: "ops/s ± error, x% of a core" as JMH measured it against the wall clock
field() { # BENCHMARK PARAM -> "score error cpuNanosPerSecond"
  awk -F, -v b="$1" -v p="$2" '{ sub(/\r$/, ""); for (i = 1; i <= NF; i++) gsub(/"/, "", $i) }
    $8 == p || $9 == p {
      if ($1 ~ ("\\." b "$")) { s = $5; e = $6 }
      if ($1 ~ ("\\." b ":cpuNanos$")) { c = $5 }
    }
    END { print s, e, c }' "$csv"
}
percpu() { field "$1" "$2" | awk '$3 > 0 { printf "%.0f", $1 / ($3 / 1e9) }'; }
wall() { field "$1" "$2" | awk '$3 > 0 { printf "%.0f ± %.0f ops/s wall, %.0f%% of a core", $1, $2, $3 / 1e7 }'; }

echo
echo "CA signing benchmark ($(date -u +%Y-%m-%dT%H:%MZ), $(nproc) cores: $(awk -F': ' '/model name/ {print $2; exit}' /proc/cpuinfo))"
echo "JDK: $("$JAVA_HOME/bin/java" -version 2>&1 | head -n 1); $(openssl version)"
echo "Load average at the end: $(cut -d' ' -f1-3 /proc/loadavg) (other processes may share these cores)."
echo "One thread; figures are operations per CPU-second of that thread (= per core), the divisor"
echo "openssl speed uses too (user CPU time). JMH: $jmh_args."
echo
row() { printf '| %-58s | %-13s | %-13s | %-9s |\n' "$@"; }
row "ECDSA P-256, per core" "Bowline/JDK" "Bouncy Castle" "OpenSSL"
row "----------------------------------------------------------" "-------------" "-------------" "---------"
row "CSR/s: parse + verify CSR + sign cert (default engines)" "$(percpu signCsr BC_VERIFY_JDK_SIGN)" "" ""
row "CSR/s: same, one provider doing both verify and sign" "$(percpu signCsr JDK)" "$(percpu signCsr BC)" ""
row "raw sign/s" "$(percpu sign JDK)" "$(percpu sign BC)" "${ossl_sign:-?}"
row "raw verify/s (one key, reused)" "$(percpu verify JDK)" "$(percpu verify BC)" "${ossl_verify:-?}"
echo
echo "Default engines: Bouncy Castle verifies the CSR, the JDK (SunEC) signs. Wall clock, default:"
echo "  $(wall signCsr BC_VERIFY_JDK_SIGN)"
echo "Target: >= 1500 CSR/s per core."
