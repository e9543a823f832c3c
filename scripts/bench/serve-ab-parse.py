#!/usr/bin/env python3
"""Medians per binary of a scripts/bench/serve-ab.sh log (serve_load's HTTP phase): cmd/s, p99,
CPU per command, the group's figures. usage: serve-ab-parse.py LOG"""
import re,sys,statistics as st,collections
runs=collections.defaultdict(list); cur=None
for line in open(sys.argv[1]):
    m=re.match(r'=== pair (\d+) (\S+)',line)
    if m: cur={'bin':m.group(2)}; runs[m.group(2)].append(cur); continue
    m=re.search(r'groups (\d+), ([\d.]+) commands each; a group (\d+) µs.*committing (\d+) %.*of mean (\d+) µs',line)
    if m: cur.update(size=float(m.group(2)),group=float(m.group(3)),busy=float(m.group(4)),sync=float(m.group(5)))
    m=re.search(r'queue wait (\d+) \+ in its group (\d+) \+ the rest .* (\d+)$',line.strip())
    if m: cur.update(wait=float(m.group(1)),ingroup=float(m.group(2)),rest=float(m.group(3)))
    m=re.search(r'= +(\d+) cmd/s; latency p50 ([\d.]+) ms, p99 ([\d.]+)',line)
    if m: cur.update(cmds=float(m.group(1)),p99=float(m.group(3)))
    m=re.search(r'CPU per command ([\d.]+) µs.*serve-worker ([\d.]+)',line)
    if m: cur.update(cpu=float(m.group(1)),worker=float(m.group(2)))
for b,rs in runs.items():
    rs=[r for r in rs if 'cmds' in r]
    print(b, len(rs), 'runs; cmd/s:', [int(r['cmds']) for r in rs])
    for k in ['cmds','p99','cpu','worker','sync','group','size','wait','ingroup','rest','busy']:
        v=[r[k] for r in rs if k in r]
        if v: print('   %-8s median %.1f'%(k,st.median(v)))
    # group time apart from sync per command
    v=[(r['group']-r['sync'])/r['size'] for r in rs if 'group' in r]
    print('   group-minus-sync per cmd median %.1f'%st.median(v))
