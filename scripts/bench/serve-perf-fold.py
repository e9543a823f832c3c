#!/usr/bin/env python3
"""Splits `perf script -F comm,tid,ip,sym` output of serve_load by thread and by the grouping task
(stacks through plaint_serve::group::commit / drain); extra arguments: symbols to count inside
the group and overall. usage: serve-perf-fold.py PERF_SCRIPT_OUTPUT [SYMBOL...]"""
import re
import sys, collections
stacks=[]; cur=None; comm=None
for line in open(sys.argv[1], errors='replace'):
    line=line.rstrip('\n')
    if not line.strip():
        if cur is not None: stacks.append((comm,cur))
        cur=None; continue
    if re.match(r'^\s*\S+\s+\d+\s*$', line):
        if cur is not None: stacks.append((comm,cur))
        comm=line.split()[0]; cur=[]; continue
    sym=line.strip().split(' ',1)[-1]
    # format: "addr sym" when ip present; we used sym only
    cur.append(sym)
if cur is not None: stacks.append((comm,cur))
N=len(stacks); print('samples',N)
bycomm=collections.Counter(c for c,_ in stacks)
print('by thread', bycomm.most_common())
def has(st,s): return any(s in f for f in st)
grp=[st for c,st in stacks if has(st,'plaint_serve::group::commit') or has(st,'plaint_serve::group::drain')]
print('group task %.1f%%'%(100*len(grp)/N))
prep=[st for c,st in stacks if has(st,'Engine::prepare')]
print('prepare %.1f%%'%(100*len(prep)/N))
keys=sys.argv[2:]
for k in keys:
    n=sum(1 for st in grp if has(st,k)); m=sum(1 for c,st in stacks if has(st,k))
    print('%-60s in group %.2f%%  all %.2f%%'%(k,100*n/N,100*m/N))
leaf=collections.Counter(st[0] for st in grp)
print('group leaves:'); [print('  %.2f%% %s'%(100*v/N,k[:120])) for k,v in leaf.most_common(15)]
