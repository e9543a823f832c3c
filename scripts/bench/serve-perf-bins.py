#!/usr/bin/env python3
"""Bins `perf script -F comm,tid,time,ip,sym` samples by 100 ms: per bin, samples per thread name,
and for the busiest threads the most frequent 'interesting' frame (first frame, leaf upwards, whose
symbol matches one of the given substrings, else the leaf).

Threads are told apart by name (`comm`), not by tid: every thread of one name is one row, so
the `serve-worker` pool's threads are summed into one count (a pool of N threads can show up
to N x 50 samples a bin at 499 Hz). Usage: serve-perf-bins.py SCRIPT [BIN_SECONDS]."""
import sys, re, collections
BIN = float(sys.argv[2]) if len(sys.argv) > 2 else 0.1
interesting = ['reserve_rehash', 'rehash', 'resize', 'realloc', 'memmove', 'memcpy', 'clear_page']
bins = collections.defaultdict(collections.Counter)
frames = collections.defaultdict(collections.Counter)
t0 = None
def flush(comm, t, stack):
    global t0
    if comm is None: return
    if t0 is None: t0 = t
    b = int((t - t0) / BIN)
    bins[b][comm] += 1
    # a key of 3 frames: the leaf, the first interesting one, the first of plaint's
    leaf = stack[0] if stack else '?'
    inter = next((s for s in stack if any(k in s for k in interesting)), None)
    pl = next((s for s in stack if 'plaint' in s), None)
    key = f"{leaf[:50]} | {(inter or '')[:50]} | {(pl or '')[:70]}"
    frames[(b, comm)][key] += 1
comm = t = None; stack = []
hdr = re.compile(r'^(\S.*?)\s+(\d+)\s+([\d.]+):\s*$')
for line in open(sys.argv[1], errors='replace'):
    if not line.strip():
        continue
    m = hdr.match(line.rstrip())
    if m and not line.startswith((' ', '\t')):
        flush(comm, t, stack)
        comm, t, stack = m.group(1), float(m.group(3)), []
    else:
        parts = line.strip().split(None, 1)
        stack.append(parts[1] if len(parts) > 1 else parts[0])
flush(comm, t, stack)
for b in sorted(bins):
    c = bins[b]
    tot = sum(c.values())
    print(f"{b*BIN:7.1f}s {tot:5d} " + " ".join(f"{k}:{v}" for k, v in c.most_common(5)))
    for comm_, _ in c.most_common(2):
        top = frames[(b, comm_)].most_common(2)
        for k, v in top:
            print(f"           {comm_}: {v} {k}")
