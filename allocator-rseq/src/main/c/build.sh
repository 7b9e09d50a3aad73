#!/usr/bin/env bash
# Builds the rseq library for this machine into $1 (META-INF/native/<os>-<arch> of the jar), in two
# flavours: libcpuslab_rseq.so and libcpuslab_rseq_check.so (CPUSLAB_SELF_CHECK: traps if a commit
# ever lands on another slab than the one its section started on; used by the torture tests).
# With "test" as $2 it builds the torture tests' helper libcpuslab_rseq_test.so instead.
# Where it cannot build (not Linux x86-64, no gcc) it says so and succeeds: AUTO then picks locked.
set -euo pipefail
out="$1"
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
if [ "$(uname -s)" != Linux ] || [ "$(uname -m)" != x86_64 ]; then
  echo "cpuslab rseq: no native build for $(uname -s)-$(uname -m) (x86-64 Linux only so far); the locked front end will serve"
  exit 0
fi
cc="${CC:-gcc}"
if ! command -v "$cc" >/dev/null 2>&1; then
  echo "cpuslab rseq: $cc not found, native library skipped; the locked front end will serve"
  exit 0
fi
mkdir -p "$out"
if [ "${2:-}" = test ]; then
  "$cc" -std=gnu11 -O2 -fPIC -shared -Wall -Wextra -Werror -o "$out/libcpuslab_rseq_test.so" \
        "$here/../../test/c/cpuslab_rseq_test.c" -lpthread
  exit 0
fi
flags=(-std=gnu11 -O2 -fPIC -shared -Wall -Wextra -Werror -fno-omit-frame-pointer
       -Wl,-z,noexecstack -Wl,--no-undefined -Wl,-z,now)
"$cc" "${flags[@]}" -o "$out/libcpuslab_rseq.so" "$here/cpuslab_rseq.c" "$here/rseq_x86_64.S" -ldl -lpthread
"$cc" "${flags[@]}" -DCPUSLAB_SELF_CHECK -o "$out/libcpuslab_rseq_check.so" "$here/cpuslab_rseq.c" "$here/rseq_x86_64.S" -ldl -lpthread
echo "cpuslab rseq: built $out/libcpuslab_rseq.so and libcpuslab_rseq_check.so with $("$cc" -dumpfullversion)"
