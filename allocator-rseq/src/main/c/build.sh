#!/usr/bin/env bash
# Builds the rseq native code for every platform this machine has a compiler for: the host with gcc
# (or $CC), and linux-aarch64 on an x86-64 host with Debian's cross compiler (aarch64-linux-gnu-gcc)
# when it is installed. Each goes to $2/<platform>/ (META-INF/native of the jar or of the tests).
#   build.sh main DIR   what the jar ships: libcpuslab_rseq.so, and cpuslab_overlay_probe, the
#                       out-of-process kernel probe for overlay mode
#   build.sh test DIR   test scope only: libcpuslab_rseq_check.so, built with CPUSLAB_SELF_CHECK, which
#                       injects a delay before every commit and traps if a commit would land on another
#                       slab than the one its section started on (every rseq test loads it), and has the
#                       test hooks; the tests' signal-storm helper (host); slab_logic_test (every
#                       platform; static for a cross platform, to run under qemu-user)
# Where nothing can be built (no gcc, other OS or CPU) it says so and succeeds: AUTO then picks locked.
set -euo pipefail
mode="$1"
base="$2"
src="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
tests="$src/../../test/c"
flags=(-std=gnu11 -O2 -fPIC -Wall -Wextra -Werror -fno-omit-frame-pointer -Wl,-z,noexecstack -Wl,-z,now)

if [ "$(uname -s)" != Linux ]; then
  echo "cpuslab rseq: no native build on $(uname -s); the locked front end will serve"
  exit 0
fi
case "$(uname -m)" in
  x86_64) targets=("linux-x86_64 x86_64 ${CC:-gcc}" "linux-aarch64 aarch64 aarch64-linux-gnu-gcc") ;;
  aarch64) targets=("linux-aarch64 aarch64 ${CC:-gcc}") ;;
  *) echo "cpuslab rseq: no assembly for $(uname -m) (x86-64 and aarch64 only); the locked front end will serve"; exit 0 ;;
esac

host="linux-$(uname -m)"
for target in "${targets[@]}"; do
  read -r platform arch cc <<<"$target"
  if ! command -v "$cc" >/dev/null 2>&1; then
    echo "cpuslab rseq: $cc not found, $platform skipped"
    continue
  fi
  out="$base/$platform"
  mkdir -p "$out"
  sources=("$src/cpuslab_rseq.c" "$src/rseq_$arch.S")
  if [ "$mode" = main ]; then
    "$cc" "${flags[@]}" -shared -Wl,--no-undefined -o "$out/libcpuslab_rseq.so" "${sources[@]}" -ldl -lpthread
    # The overlay probe runs out of process (it writes a read-only rseq field): an executable of its own.
    "$cc" "${flags[@]}" -o "$out/cpuslab_overlay_probe" "$src/overlay_probe.c" "${sources[@]}" -ldl -lpthread
    echo "cpuslab rseq: built $platform library and overlay probe with $("$cc" -dumpfullversion)"
  else
    "$cc" "${flags[@]}" -shared -Wl,--no-undefined -DCPUSLAB_SELF_CHECK -o "$out/libcpuslab_rseq_check.so" "${sources[@]}" -ldl -lpthread
    if [ "$platform" = "$host" ]; then
      "$cc" "${flags[@]}" -shared -o "$out/libcpuslab_rseq_test.so" "$tests/cpuslab_rseq_test.c" -lpthread
      "$cc" "${flags[@]}" -DCPUSLAB_SELF_CHECK -o "$out/slab_logic_test" "$tests/slab_logic_test.c" "${sources[@]}" -ldl -lpthread
    else
      "$cc" "${flags[@]}" -static -DCPUSLAB_SELF_CHECK -o "$out/slab_logic_test" "$tests/slab_logic_test.c" "${sources[@]}" -ldl -lpthread
    fi
    echo "cpuslab rseq: built $platform self-checking library and test helpers"
  fi
done
