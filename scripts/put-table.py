#!/usr/bin/env python3
"""Puts standard input into BENCHMARKS.md between the markers of NAME,
`<!-- NAME:start ... -->` and `<!-- NAME:end -->`, keeping the start
marker's line as it is. Every benchmark script writes its table this way.

    some-table-maker | scripts/put-table.py NAME
"""
import re
import sys

name = sys.argv[1]
block = sys.stdin.read().strip("\n")
text = open("BENCHMARKS.md").read()
pattern = re.compile(r"(<!-- " + re.escape(name) + r":start[^\n]*\n).*?(<!-- " + re.escape(name) + r":end -->)", re.S)
if not pattern.search(text):
    raise SystemExit(f"BENCHMARKS.md lacks the {name} markers")
open("BENCHMARKS.md", "w").write(pattern.sub(lambda m: m.group(1) + block + "\n" + m.group(2), text))
