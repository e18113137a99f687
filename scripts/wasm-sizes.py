#!/usr/bin/env python3
"""Where a wasm module's code bytes go, from its name section (twiggy 0.8
cannot read modules with reference types). Prints three Markdown tables:
code bytes by crate, palaute's own code by module (what was inlined into
a function counts for the function's module), and the largest functions.

    scripts/wasm-sizes.py MODULE.wasm [TOP]

MODULE must keep its names (wasm-bindgen --keep-debug, wasm-opt --debuginfo).
"""
import re
import sys
from collections import Counter


def leb(data, at):
    value = shift = 0
    while True:
        byte = data[at]
        at += 1
        value |= (byte & 0x7F) << shift
        shift += 7
        if not byte & 0x80:
            return value, at


def sections(data):
    at = 8
    while at < len(data):
        kind = data[at]
        size, body = leb(data, at + 1)
        yield kind, data[body:body + size]
        at = body + size


def read(path):
    data = open(path, "rb").read()
    imported, bodies, names = 0, [], {}
    for kind, body in sections(data):
        if kind == 2:  # imports: function imports take the first indices
            count, at = leb(body, 0)
            for _ in range(count):
                for _ in range(2):
                    n, at = leb(body, at)
                    at += n
                what = body[at]
                at += 1
                if what == 0:
                    _, at = leb(body, at)
                    imported += 1
                elif what == 1:
                    at += 1
                    flags = body[at]
                    _, at = leb(body, at + 1)
                    if flags & 1:
                        _, at = leb(body, at)
                elif what == 2:
                    flags = body[at]
                    _, at = leb(body, at + 1)
                    if flags & 1:
                        _, at = leb(body, at)
                elif what == 3:
                    at += 2
                else:
                    _, at = leb(body, at + 1)
        elif kind == 10:  # code
            count, at = leb(body, 0)
            for _ in range(count):
                size, start = leb(body, at)
                bodies.append(start + size - at)
                at = start + size
        elif kind == 0:
            n, at = leb(body, 0)
            if body[at:at + n] != b"name":
                continue
            at += n
            while at < len(body):
                sub = body[at]
                size, start = leb(body, at + 1)
                if sub == 1:
                    count, p = leb(body, start)
                    for _ in range(count):
                        index, p = leb(body, p)
                        n, p = leb(body, p)
                        names[index] = body[p:p + n].decode("utf-8", "replace")
                        p += n
                at = start + size
    return [(size, names.get(imported + i, "?")) for i, size in enumerate(bodies)]


def crate(name):
    name = re.sub(r"^(?:[<&]|mut )+", "", name)
    first = re.split(r"::|\[| as |<|>", name)[0]
    first = "core" if first == "str" else first
    return first if first and "::" in name or "[" in name else "(runtime glue)"


def module(name):
    """palaute's module of a function (`client::session`), or None."""
    found = re.search(r"palaute::(\w+(?:::[a-z_]\w*)?)", clean(name))
    return found.group(1) if found and crate(name) == "palaute" else None


def clean(name):
    name = re.sub(r"\[[0-9a-f]{8,16}\]", "", name)
    name = re.sub(r"::h[0-9a-f]{16}$", "", name)
    return name if len(name) < 90 else name[:87] + "..."


def main():
    path = sys.argv[1]
    top = int(sys.argv[2]) if len(sys.argv) > 2 else 15
    functions = read(path)
    total = sum(size for size, _ in functions)
    by_crate = Counter()
    for size, name in functions:
        by_crate[crate(name)] += size
    print("| crate | code bytes | share |")
    print("|---|---:|---:|")
    for name, size in by_crate.most_common():
        if size * 200 >= total:
            print(f"| `{name}` | {size} | {100 * size / total:.0f}% |")
    print(f"| all {len(functions)} functions | {total} | 100% |")
    print()
    by_module = Counter()
    for size, name in functions:
        by_module[module(name)] += size
    del by_module[None]
    print("| palaute's module | code bytes |")
    print("|---|---:|")
    for name, size in by_module.most_common(12):
        print(f"| `{name}` | {size} |")
    print()
    print("| largest functions | code bytes |")
    print("|---|---:|")
    for size, name in sorted(functions, reverse=True)[:top]:
        print(f"| `{clean(name)}` | {size} |")


main()
