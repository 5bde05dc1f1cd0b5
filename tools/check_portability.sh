#!/usr/bin/env bash
# Portability of the C kernels: compile every csrc/**/*.c except the Python
# binding (csrc/py/, which needs Python's headers for the target) with
#   x86_64-w64-mingw32-gcc   (Windows x86-64, MinGW-w64 cross compiler)
#   clang                    (the host)
# as C11 with -Wall -Wextra -Werror and the per-file instruction-set flags
# of setup.py, then link the objects into one shared library with no
# undefined symbol (a Windows DLL must resolve every symbol at link time),
# and link tools/portability_check.c (thread pool and GEMM checks) against
# them and run it: natively for clang, under wine64 for Windows when wine is
# installed (otherwise it is only built); then every file once more with
# clang -march=x86-64-v4, as XNN_NATIVE=1 builds them on an AVX-512 machine.
#
#   tools/check_portability.sh            # both compilers; a missing one is skipped
#   CI=true tools/check_portability.sh    # a missing compiler is an error
#
# Debian: apt-get install -y gcc-mingw-w64-x86-64 clang [wine64]
set -euo pipefail
cd "$(dirname "$0")/.."

mapfile -t SOURCES < <(find csrc -name '*.c' -not -path 'csrc/py/*' | sort)
BASE=(-std=c11 -O2 -Wall -Wextra -Werror -fno-fast-math -ffp-contract=off -Icsrc)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

flags_for() {            # the per-file flags of setup.py (FILE_FLAGS)
    case "$1" in
        csrc/gemm/kernel_avx2.c) echo "-mavx2 -mfma" ;;
        csrc/gemm/kernel_avx512.c) echo "-mavx512f -mfma" ;;
        csrc/explain/lrp.c) echo "-fno-trapping-math" ;;
    esac
}

# wine64 (Debian's package leaves it in /usr/lib/wine without the wine wrapper)
wine=$(command -v wine64 || command -v wine || { [ -x /usr/lib/wine/wine64 ] && echo /usr/lib/wine/wine64; } || true)

failed=0
checked=0
for cc in x86_64-w64-mingw32-gcc clang; do
    if ! command -v "$cc" >/dev/null 2>&1; then
        if [ "${CI:-}" = "true" ]; then
            echo "check_portability: $cc is not installed (apt-get install -y gcc-mingw-w64-x86-64 clang)" >&2
            failed=1
        else
            echo "check_portability: $cc not installed, skipped"
        fi
        continue
    fi
    out="$work/$cc"
    mkdir -p "$out"
    ok=1
    objs=()
    pic=()
    [ "$cc" = clang ] && pic=(-fPIC)
    for src in "${SOURCES[@]}"; do
        obj="$out/$(echo "$src" | tr '/' '_').o"
        # shellcheck disable=SC2046
        if ! "$cc" "${BASE[@]}" "${pic[@]}" $(flags_for "$src") -c "$src" -o "$obj"; then
            echo "check_portability: $cc failed on $src" >&2
            ok=0
        fi
        objs+=("$obj")
    done
    if [ "$ok" = 1 ]; then
        if [ "$cc" = clang ]; then
            link=("$cc" -shared -o "$out/libxnn.so" "${objs[@]}" -Wl,--no-undefined -lm -lpthread)
        else
            link=("$cc" -shared -o "$out/xnn.dll" "${objs[@]}")
        fi
        if ! "${link[@]}"; then
            echo "check_portability: $cc could not link the kernels" >&2
            ok=0
        fi
    fi
    if [ "$ok" = 1 ]; then
        exe="$out/portability_check"
        libs=(-lm)
        [ "$cc" = clang ] && libs+=(-lpthread)
        [ "$cc" = clang ] || exe="$exe.exe"
        if ! "$cc" "${BASE[@]}" tools/portability_check.c "${objs[@]}" "${libs[@]}" -o "$exe"; then
            echo "check_portability: $cc could not build tools/portability_check.c" >&2
            ok=0
        elif [ "$cc" = clang ]; then
            "$exe" || ok=0
        elif [ -n "$wine" ]; then
            WINEDEBUG=-all WINEPREFIX="$work/wine" "$wine" "$exe" || ok=0
        else
            echo "check_portability: wine64 not installed, $exe built but not run"
        fi
    fi
    if [ "$ok" = 1 ]; then
        echo "check_portability: $cc ($("$cc" -dumpversion)): ${#SOURCES[@]} files compiled and linked"
        checked=$((checked + 1))
    else
        failed=1
    fi
done
# XNN_NATIVE=1 (-march=native) on an AVX-512 machine: every file, the
# portable kernel included, sees the vector instruction sets' macros
if command -v clang >/dev/null 2>&1; then
    for src in "${SOURCES[@]}"; do
        # shellcheck disable=SC2046
        if ! clang "${BASE[@]}" -march=x86-64-v4 $(flags_for "$src") -c "$src" \
                -o "$work/native.o"; then
            echo "check_portability: clang -march=x86-64-v4 failed on $src" >&2
            failed=1
        fi
    done
    [ "$failed" = 0 ] && echo "check_portability: ${#SOURCES[@]} files compiled with -march=x86-64-v4"
fi
[ "$failed" = 0 ] || exit 1
echo "check_portability: $checked compiler(s) passed"
