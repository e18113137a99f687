#!/usr/bin/env bash
# Builds the size-optimised browser client into www/dist/:
#   palaute.js                    the loader (minified; short cache)
#   m/palaute.<hash>.js           wasm-bindgen's generated glue, minified (immutable)
#   m/palaute_bg.<hash>.wasm      the Rust module (src/client/), wasm-opt -Oz (immutable)
#   m/palaute_part.<hash>.wasm    its second part, the prompt's interface, which
#                                 the loader fetches only when the prompt asks
#                                 (split off by tools/split; immutable)
# plus .br and .gz beside each, and prints a size report.
# Usage: scripts/build-client.sh [--dev]   (--dev: debug wasm, no wasm-opt)
set -euo pipefail
cd "$(dirname "$0")/.."

profile=wasm-release
[ "${1:-}" = "--dev" ] && profile=dev
out=www/dist
work=target/client
# The client's own files only: www/dist/dashboard is build-dashboard.sh's.
rm -rf "$out/m" "$out"/palaute.js* "$work"
mkdir -p "$out/m" "$work"

if [ "$profile" = wasm-release ]; then
  # The release module is built with a std of its own (`-Z build-std`,
  # allowed on the stable toolchain by RUSTC_BOOTSTRAP, as Firefox's build
  # does): panics abort at once, with no message, location or formatting
  # machinery left in the module (2.9 KB brotli of it, measured). The
  # client never panics on browser input; a bug traps, and the loader's
  # own beacon still covers the view. Its own target dir, so the
  # collector's builds and the lints keep their caches.
  # opt-level z with LLVM's inliner at 100 (z alone has 25): inlining the
  # functions called from one or two places saves their call sites and
  # frames. The best value moves as the code does: over 0-400 it was 150
  # (32,737 B brotli against 33,497 at z alone and 33,423 at s, 2026-12-02);
  # re-measured after the allocator and listener changes: 50 34,830,
  # 75 34,284, 100 34,159, 125 34,170, 150 34,261, 225 34,935 (later on 2026-12-02).
  # Linked with each static in a data segment of its own and the function
  # table from slot TABLE_BASE, so that tools/split can tell which data and
  # which function pointers only the prompt's interface uses (its doc).
  RUSTC_BOOTSTRAP=1 CARGO_TARGET_DIR=target/wasm-std \
    RUSTFLAGS="-Zunstable-options -Cpanic=immediate-abort -Zlocation-detail=none -Zfmt-debug=none -Cllvm-args=-inline-threshold=100 -Clink-arg=--no-merge-data-segments -Clink-arg=--table-base=3517" \
    cargo build -q -p palaute --target wasm32-unknown-unknown --profile "$profile" -Z build-std=std,panic_abort
  built=target/wasm-std/wasm32-unknown-unknown/$profile/palaute.wasm
else
  cargo build -q -p palaute --target wasm32-unknown-unknown --profile "$profile"
  built=target/wasm32-unknown-unknown/debug/palaute.wasm
fi
wasm-bindgen --target web --no-typescript --out-name palaute_wasm --out-dir "$work" "$built"

# The names the wasm imports from the glue (`__wbg_getItem_<hash>`, mostly
# hash) made short, in both files: about 1 KB brotli each. Before the split,
# so that both parts import the short names.
node scripts/shorten-imports.mjs "$work/palaute_wasm_bg.wasm" "$work/palaute_wasm.js" >/dev/null
# The prompt's interface (`prompt::palaute_prompt` and all that only it
# reaches) split off into a part of its own, which the loader fetches when
# the prompt is to ask (tools/split).
CARGO_TARGET_DIR=target cargo run -q --release -p palaute-split -- \
  "$work/palaute_wasm_bg.wasm" palaute_prompt "$work/rest.wasm" "$work/part.wasm"
if [ "$profile" = wasm-release ]; then
  # binaryen from npm: Debian's (108) cannot parse the reference-types code wasm-bindgen needs.
  # --flatten --rereloop -Oz after -Oz: the control flow rebuilt by binaryen's
  # relooper, then optimized again, is smaller (-146 B brotli in the rest,
  # -68 B in the part, 2026-12-06; --gufa-optimizing gave -80 alone and
  # nothing more beside it).
  # --duplicate-import-elimination: imports that shorten-imports.mjs gave
  # one shim become one import.
  # --low-memory-unused: Rust's data and stack start at 1 MiB, so offsets
  # below 1 KiB can be folded into loads and stores.
  optimize() { # in out [wasm-opt options]: the module as shipped, or (--debuginfo) with its names
    local in=$1 out=$2; shift 2
    npx --no-install wasm-opt -Oz --duplicate-import-elimination --converge --low-memory-unused --enable-bulk-memory --enable-nontrapping-float-to-int \
      --enable-sign-ext --enable-mutable-globals --enable-reference-types --enable-multivalue \
      --flatten --rereloop -Oz "$@" -o "$out" "$in"
  }
  # The rest is optimized as if its function table were its own (tools/split
  # leaves every slot the part fills a function of the same type, and calls
  # the part through an index wasm-opt cannot know), and exports it after.
  optimize "$work/rest.wasm" "$work/palaute_wasm_bg.wasm" --strip-debug --strip-producers --strip-target-features
  CARGO_TARGET_DIR=target cargo run -q --release -p palaute-split -- --export-table "$work/palaute_wasm_bg.wasm"
  optimize "$work/part.wasm" "$work/palaute_part.wasm" --strip-debug --strip-producers --strip-target-features
  # The same module with its names, for scripts/bench-size.sh's table of where the bytes go.
  wasm-bindgen --target web --no-typescript --keep-debug --out-name named --out-dir "$work/named" "$built"
  optimize "$work/named/named_bg.wasm" "$work/palaute_named.wasm" --debuginfo
else
  mv "$work/rest.wasm" "$work/palaute_wasm_bg.wasm"
  CARGO_TARGET_DIR=target cargo run -q --release -p palaute-split -- --export-table "$work/palaute_wasm_bg.wasm"
  mv "$work/part.wasm" "$work/palaute_part.wasm"
fi
node scripts/bundle-client.mjs "$work/palaute_wasm.js" "$work/palaute.min.js"

hash=$(cat "$work/palaute_wasm_bg.wasm" "$work/palaute.min.js" "$work/palaute_part.wasm" | sha256sum | cut -c1-12)
glue="palaute.$hash.js"
wasm="palaute_bg.$hash.wasm"
cp "$work/palaute.min.js" "$out/m/$glue"
cp "$work/palaute_wasm_bg.wasm" "$out/m/$wasm"
# SHA-256: the hashes of the module's files are written into the loader,
# where each is incompressible (44 characters, against sha384's 64).
sri() { # file → its Subresource Integrity hash (sha256)
  node -e "process.stdout.write('sha256-' + require('crypto').createHash('sha256').update(require('fs').readFileSync(process.argv[1])).digest('base64'))" "$1"
}
wasm_sri=$(sri "$out/m/$wasm")
# The second part, pinned by its hash in the loader as the module is.
part="palaute_part.$hash.wasm"
cp "$work/palaute_part.wasm" "$out/m/$part"
part_sri=$(sri "$out/m/$part")
# The outbox's key and bounds, from their one definition (src/outbox.rs).
defines=$(cargo run -q -p palaute --example loader_defines)
# shellcheck disable=SC2086 # one word per --define
npx --no-install esbuild www/palaute.js --minify --log-level=warning --target=es2017 $defines \
  | sed -e "s/__GLUE__/$glue/" -e "s/__WASM__/$wasm/" -e "s|__WASM_SRI__|$wasm_sri|" \
    -e "s/__PART__/$part/" -e "s|__PART_SRI__|$part_sri|" > "$out/palaute.js"
sri "$out/palaute.js" > "$out/palaute.js.integrity"

shipped=("$out/palaute.js" "$out/m/$glue" "$out/m/$wasm")
for f in "${shipped[@]}" "$out/m/$part"; do
  brotli -f -q 11 -k "$f"
  gzip -f -9 -k "$f"
done

echo "client build ($profile) in $out:"
printf '  %-34s %8s %8s %8s\n' file raw gzip brotli
tr=0; tg=0; tb=0
for f in "${shipped[@]}"; do
  r=$(wc -c < "$f"); g=$(wc -c < "$f.gz"); b=$(wc -c < "$f.br")
  tr=$((tr + r)); tg=$((tg + g)); tb=$((tb + b))
  printf '  %-34s %8d %8d %8d\n' "$(basename "$f")" "$r" "$g" "$b"
done
printf '  %-34s %8d %8d %8d\n' "total (a view without the prompt)" "$tr" "$tg" "$tb"
echo "$tb" > "$work/brotli-total"
f=$out/m/$part
r=$(wc -c < "$f"); g=$(wc -c < "$f.gz"); b=$(wc -c < "$f.br")
printf '  %-34s %8d %8d %8d\n' "$part" "$r" "$g" "$b"
printf '  %-34s %8d %8d %8d\n' "total (a view with the prompt)" $((tr + r)) $((tg + g)) $((tb + b))
echo "script tag (Subresource Integrity of this build's loader; the loader pins the module the same way):"
echo "  <script async src=\"https://COLLECTOR/palaute.js\" integrity=\"$(cat "$out/palaute.js.integrity")\" crossorigin=\"anonymous\" data-site=\"SITE\"></script>"
