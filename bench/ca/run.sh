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

# score BENCHMARK-SUFFIX PARAM: "12345 ± 67" from the JMH CSV
score() {
  awk -F, -v b="$1" -v p="$2" '{ sub(/\r$/, ""); for (i = 1; i <= NF; i++) gsub(/"/, "", $i) }
    $1 ~ ("\\." b "$") && ($8 == p || $9 == p) { printf "%.0f ± %.0f", $5, $6 }' "$csv"
}

echo
echo "CA signing benchmark ($(date -u +%Y-%m-%dT%H:%MZ), $(nproc) cores: $(awk -F': ' '/model name/ {print $2; exit}' /proc/cpuinfo))"
echo "JDK: $("$JAVA_HOME/bin/java" -version 2>&1 | head -n 1); $(openssl version)"
echo "Single thread = per core; ops/s, mean ± 99.9% error over the measured iterations."
echo "Load average at the end: $(cut -d' ' -f1-3 /proc/loadavg) (other processes share these cores)."
echo
printf '| %-52s | %-16s | %-16s | %-10s |\n' "what (ECDSA P-256)" "Bowline/JDK" "Bouncy Castle" "OpenSSL"
printf '|%s|%s|%s|%s|\n' "$(printf -- '-%.0s' {1..54})" "$(printf -- '-%.0s' {1..18})" "$(printf -- '-%.0s' {1..18})" "$(printf -- '-%.0s' {1..12})"
printf '| %-52s | %-16s | %-16s | %-10s |\n' "CSR/s: parse + verify CSR + sign cert (BC verify, JDK sign; default)" "$(score signCsr BC_VERIFY_JDK_SIGN)" "" ""
printf '| %-52s | %-16s | %-16s | %-10s |\n' "CSR/s: same, one provider for both" "$(score signCsr JDK)" "$(score signCsr BC)" ""
printf '| %-52s | %-16s | %-16s | %-10s |\n' "sign/s (raw signature)" "$(score sign JDK)" "$(score sign BC)" "${ossl_sign:-?}"
printf '| %-52s | %-16s | %-16s | %-10s |\n' "verify/s (raw signature)" "$(score verify JDK)" "$(score verify BC)" "${ossl_verify:-?}"
echo
echo "Target: >= 1500 CSR/s per core."
