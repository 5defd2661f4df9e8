#!/usr/bin/env bash
# Checks that every C++ file of the project is formatted as .clang-format says
# (clang-format 14, Debian's). Lists the files that differ and exits 1.
#
#   tests/build/clang_format_check.sh            check (CTest: build.clang_format)
#   tests/build/clang_format_check.sh --fix      reformat those files in place
#   tests/build/clang_format_check.sh -- FILE..  check only these files
#
# Exits 77 (skipped) when clang-format is not installed. CLANG_FORMAT names
# the binary (default: clang-format-14, else clang-format).
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
cd "$ROOT"
fix=false
files=()
while [[ $# -gt 0 ]]; do
  case $1 in
    --fix) fix=true ;;
    --) shift; files=("$@"); break ;;
    *) echo "clang_format_check: unknown argument $1" >&2; exit 2 ;;
  esac
  shift
done
cf=${CLANG_FORMAT:-$(command -v clang-format-14 || command -v clang-format || true)}
[[ -n $cf ]] || { echo "clang_format_check: SKIP: clang-format is not installed (apt clang-format)"; exit 77; }
[[ -f .clang-format ]] || { echo "clang_format_check: no .clang-format in $ROOT" >&2; exit 1; }
if [[ ${#files[@]} -eq 0 ]]; then
  # The tracked C++ files (and new ones not ignored), never build trees.
  if git rev-parse --is-inside-work-tree >/dev/null 2>&1; then
    mapfile -t files < <(git ls-files --cached --others --exclude-standard -- '*.cc' '*.h' \
                           | grep -vE '^(build|bazel-[^/]*)/' | while read -r f; do [[ -f $f ]] && echo "$f"; done)
  else
    mapfile -t files < <(find . \( -path ./build -o -name 'bazel-*' \) -prune -o \
                           \( -name '*.cc' -o -name '*.h' \) -type f -print | sed 's|^\./||' | sort)
  fi
fi
[[ ${#files[@]} -gt 0 ]] || { echo "clang_format_check: no C++ files found" >&2; exit 1; }

if $fix; then
  printf '%s\0' "${files[@]}" | xargs -0 -n 50 -P "$(nproc)" "$cf" -i --style=file
  echo "clang_format_check: formatted ${#files[@]} files with $("$cf" --version | sed 's/.*version /clang-format /;s/ .*//')"
  exit 0
fi

# --dry-run prints one warning per differing line; list each file once.
bad=$(printf '%s\0' "${files[@]}" \
        | xargs -0 -n 50 "$cf" --dry-run --style=file 2>&1 \
        | sed -nE 's/^([^:]+):[0-9]+:[0-9]+: (warning|error): .*/\1/p' | sort -u || true)
if [[ -z $bad ]]; then
  echo "clang_format_check: OK, ${#files[@]} files formatted as .clang-format says"
  exit 0
fi
n=$(wc -l <<<"$bad")
echo "clang_format_check: FAILED, $n of ${#files[@]} files differ from .clang-format:"
sed 's/^/  /' <<<"$bad"
echo "Fix: tests/build/clang_format_check.sh --fix   (then review git diff)"
echo "Or see one: $cf --style=file FILE | diff FILE -"
exit 1
