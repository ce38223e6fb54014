# shellcheck shell=bash
# Sourced by ./mvnw, ./bowline and .ci/run: exports JAVA_HOME pointing at a JDK >= 25.
#
# Order: $JAVA_HOME if it is 25 or newer; else the newest JDK >= 25 found under the
# directories in $BOWLINE_JDK_SEARCH_PATH (colon-separated; default /usr/lib/jvm:/opt/java:
# ~/.sdkman/candidates/java:~/.jdks). To simulate a machine without Java 25, point that
# variable at an empty directory, e.g.
#   JAVA_HOME=/usr/lib/jvm/java-17-openjdk-amd64 BOWLINE_JDK_SEARCH_PATH=/nonexistent ./bowline
# On failure it prints one line to stderr and returns 1.

bowline_java_major() { # $1 = JDK home; prints its feature version or nothing
  local release="$1/release" v=""
  if [ -r "$release" ]; then
    v=$(sed -n 's/^JAVA_VERSION="\([0-9][0-9]*\).*/\1/p' "$release" | head -n 1)
  fi
  if [ -z "$v" ] && [ -x "$1/bin/java" ]; then
    v=$("$1/bin/java" -XshowSettings:properties -version 2>&1 |
      sed -n 's/^ *java\.specification\.version = \([0-9][0-9]*\).*/\1/p' | head -n 1)
  fi
  printf '%s' "$v"
}

bowline_find_java() {
  local required=25 v
  if [ -n "${JAVA_HOME:-}" ] && [ -x "$JAVA_HOME/bin/javac" ]; then
    v=$(bowline_java_major "$JAVA_HOME")
    if [ -n "$v" ] && [ "$v" -ge "$required" ]; then
      export JAVA_HOME
      return 0
    fi
  fi
  local search="${BOWLINE_JDK_SEARCH_PATH:-/usr/lib/jvm:/opt/java:$HOME/.sdkman/candidates/java:$HOME/.jdks}"
  local best="" best_v=0 dir cand IFS=:
  for dir in $search; do
    [ -d "$dir" ] || continue
    for cand in "$dir"/*; do
      [ -x "$cand/bin/javac" ] || continue
      v=$(bowline_java_major "$cand")
      if [ -n "$v" ] && [ "$v" -ge "$required" ] && [ "$v" -gt "$best_v" ]; then
        best="$cand" best_v="$v"
      fi
    done
  done
  if [ -z "$best" ]; then
    echo "bowline: needs a JDK ${required} or newer, found none (JAVA_HOME=${JAVA_HOME:-unset}; searched ${search}); install one, e.g. Temurin ${required}, under /usr/lib/jvm" >&2
    return 1
  fi
  JAVA_HOME="$best"
  export JAVA_HOME
}
