"""Where a wasm module's bytes go: sections, and code bytes by crate (from the `name` section).

    python3 bench/wasm_sizes.py MODULE.wasm [--top 25] [--functions 0]

Reads the rustc output (target/wasm32-unknown-unknown/release/*.wasm), which still has function
names; wasm-bindgen's output keeps them too unless stripped. Crates are taken from the demangled
path's first segment (generic instantiations count towards the crate that defines the function).
"""
import argparse, collections, re, sys

def leb(b, i):
    r = s = 0
    while True:
        x = b[i]; i += 1
        r |= (x & 0x7f) << s; s += 7
        if x < 0x80: return r, i

def sections(b):
    assert b[:4] == b"\0asm", "not a wasm module"
    i = 8
    while i < len(b):
        sid = b[i]; size, j = leb(b, i + 1)
        yield sid, j, j + size
        i = j + size

NAMES = {0: "custom", 1: "type", 2: "import", 3: "function", 4: "table", 5: "memory", 6: "global",
         7: "export", 8: "start", 9: "element", 10: "code", 11: "data", 12: "datacount"}

def demangle_legacy(name):
    m = re.match(r"_ZN((?:\d+[^\d].*?)+)E?$", name)
    if not name.startswith("_ZN"): return name
    i, parts, s = 3, [], name
    while i < len(s) and s[i].isdigit():
        j = i
        while s[j].isdigit(): j += 1
        n = int(s[i:j]); parts.append(s[j:j + n]); i = j + n
    return "::".join(parts)

def crate_of(name):
    n = demangle_legacy(name)
    n = n.lstrip("<&* ").replace("_$LT$", "<")
    m = re.match(r"([A-Za-z_][A-Za-z0-9_]*)", n)
    return m.group(1) if m else "?"

def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("module"); ap.add_argument("--top", type=int, default=25); ap.add_argument("--functions", type=int, default=0)
    a = ap.parse_args()
    b = open(a.module, "rb").read()
    secs = list(sections(b))
    n_imports = 0; bodies = []; names = {}; exports = []
    per_section = collections.Counter()
    for sid, s, e in secs:
        label = NAMES.get(sid, str(sid))
        if sid == 0:
            nl, k = leb(b, s); label = "custom:" + b[k:k + nl].decode()
            if label == "custom:name":
                k += nl
                while k < e:
                    sub = b[k]; size, k2 = leb(b, k + 1)
                    if sub == 1:
                        cnt, p = leb(b, k2)
                        for _ in range(cnt):
                            idx, p = leb(b, p); ln, p = leb(b, p); names[idx] = b[p:p + ln].decode("utf8", "replace"); p += ln
                    k = k2 + size
        per_section[label] += e - s
        if sid == 2:
            cnt, p = leb(b, s)
            for _ in range(cnt):
                for _ in range(2):
                    ln, p = leb(b, p); p += ln
                kind = b[p]; p += 1
                if kind == 0: _, p = leb(b, p); n_imports += 1
                elif kind == 1: p += 1; fl, p = leb(b, p); _, p = leb(b, p); p = leb(b, p)[1] if fl & 1 else p
                elif kind == 2: fl, p = leb(b, p); _, p = leb(b, p); p = leb(b, p)[1] if fl & 1 else p
                elif kind == 3: p += 2
        if sid == 7:
            cnt, p = leb(b, s)
            for _ in range(cnt):
                ln, p = leb(b, p); nm = b[p:p + ln].decode(); p += ln; kind = b[p]; idx, p = leb(b, p + 1); exports.append((nm, kind))
        if sid == 10:
            cnt, p = leb(b, s)
            for f in range(cnt):
                size, q = leb(b, p); bodies.append((n_imports + f, q + size - p)); p = q + size
    print(f"{a.module}: {len(b):,} bytes")
    for label, n in per_section.most_common():
        print(f"  section {label:24s} {n:>12,}")
    print(f"  exports: {len(exports)}; functions: {len(bodies)} (+{n_imports} imported)")
    by_crate = collections.Counter(); count = collections.Counter()
    for idx, size in bodies:
        c = crate_of(names.get(idx, "?")); by_crate[c] += size; count[c] += 1
    print(f"  code bytes by crate (top {a.top}):")
    for c, n in by_crate.most_common(a.top):
        print(f"    {c:32s} {n:>11,}  ({count[c]} functions)")
    if a.functions:
        print(f"  largest functions:")
        for idx, size in sorted(bodies, key=lambda t: -t[1])[: a.functions]:
            print(f"    {size:>9,}  {demangle_legacy(names.get(idx, '?'))[:150]}")

main()
