#!/usr/bin/env bash
# check_bundle.sh BUNDLE_DIR — asserts the bundle is relocatable: copied elsewhere, every shared library
# its binary needs (but the glibc family) resolves inside its lib/, and it runs `tessera gpus catalog`
# without the source tree.
set -euo pipefail
src=$1
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cp -a "$src" "$tmp/moved"
bundle=$(realpath "$tmp/moved")
glibc='^(linux-vdso|ld-linux|libc\.so|libm\.so|libpthread\.so|libdl\.so|librt\.so|libresolv\.so|libutil\.so)'
fail=0
while read -r name arrow path _; do
  [[ "$arrow" == "=>" ]] || continue
  [[ "$name" =~ $glibc ]] && continue
  path=$(realpath -m "$path")
  if [[ "$path" != "$bundle/lib/"* ]]; then
    echo "FAIL: $name resolves to $path, outside the bundle's lib/"
    fail=1
  fi
done < <(env -i PATH=/usr/bin:/bin ldd "$bundle/bin/tessera")
count=$(ls "$bundle/lib" | wc -l)
echo "bundle lib/ holds $count libraries"
out=$(env -i PATH=/usr/bin:/bin "$bundle/bin/tessera" gpus catalog --gpu h100)
grep -q '3g.40gb' <<<"$out" || { echo "FAIL: the moved bundle did not print the H100 catalog"; fail=1; }
layouts=$(env -i PATH=/usr/bin:/bin "$bundle/bin/tessera" gpus layouts --gpu h100 | tail -1)
[[ "$layouts" == "722 layouts" ]] || { echo "FAIL: moved bundle printed '$layouts'"; fail=1; }
[[ $fail == 0 ]] && echo "bundle is relocatable: 1 passed, 0 failed"
exit $fail
