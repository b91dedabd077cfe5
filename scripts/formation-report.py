#!/usr/bin/env python3
"""Reads the member logs that `hearsay bench swim --procs --keep-logs DIR` keeps
(DIR/hearsay-N/nIII/stderr.log, JSON lines) and reports how the cluster formed,
timed from the first membership event of any member (with --join-after-up, the
joins' release):

  joins     when member 0 (the seed) learnt each joiner, and when each joiner
            first learnt anyone: percentiles, in seconds
  known     per member, how many others it knows and holds alive at the given
            times: percentiles over the members
  timeline  per bucket: the share of (observer, member) views alive, and the
            count of every event kind (member changes, neighbour up/down,
            failed probes, slow loop steps, failed sends) summed over members

Usage: scripts/formation-report.py DIR/hearsay-200 [joins|known|timeline] [opts]
  known    --at 2,4,8,15,30      times in seconds
  timeline --step 2 --until 60   bucket width and end, in seconds
"""
import argparse
import collections
import glob
import json
import os
import sys
from datetime import datetime


def ts(rec):
    return datetime.fromisoformat(rec["time"][:26]).timestamp()


def load(d):
    files = sorted(glob.glob(os.path.join(d, "n*", "stderr.log")))
    if not files:
        sys.exit(f"no n*/stderr.log under {d}")
    logs = []
    for f in files:
        recs = []
        with open(f) as fh:
            for line in fh:
                if not line.startswith("{"):
                    continue
                try:
                    recs.append(json.loads(line))
                except json.JSONDecodeError:
                    continue
        logs.append(recs)
    t0 = min((ts(r) for recs in logs for r in recs if r.get("msg") == "member"), default=None)
    if t0 is None:
        sys.exit("no membership event in the logs")
    return logs, t0


def q(xs, p):
    return xs[min(len(xs) - 1, int(p * len(xs)))]


def pct(xs):
    xs = sorted(xs)
    return "p10 %.1f  p50 %.1f  p90 %.1f  max %.1f  (n=%d)" % (q(xs, .1), q(xs, .5), q(xs, .9), xs[-1], len(xs))


def alive(change):
    return "alive" if change in ("joined", "alive", "updated") else change


def joins(logs, t0):
    learnt = {}
    for r in logs[0]:
        if r.get("msg") == "member" and r.get("change") == "joined":
            learnt.setdefault(r["peer"], ts(r) - t0)
    first = []
    for recs in logs[1:]:
        t = next((ts(r) - t0 for r in recs if r.get("msg") == "member"), None)
        if t is not None:
            first.append(t)
    print("seed learnt the joiner:     ", pct(list(learnt.values())) if learnt else "none")
    print("joiner's first member event:", pct(first) if first else "none",
          "" if len(first) == len(logs) - 1 else f"; {len(logs) - 1 - len(first)} joiners learnt no one")


def known(logs, t0, at):
    n = len(logs)
    for T in at:
        k, a = [], []
        for recs in logs:
            st = {}
            for r in recs:
                if r.get("msg") != "member" or ts(r) - t0 > T:
                    continue
                st[r["peer"]] = alive(r["change"])
            k.append(len(st))
            a.append(sum(1 for v in st.values() if v == "alive"))
        k.sort()
        a.sort()
        print("t=%5.1fs  known p0 %3d p10 %3d p50 %3d p90 %3d  |  alive p0 %3d p10 %3d p50 %3d p90 %3d  (of %d)" % (
            T, k[0], q(k, .1), q(k, .5), q(k, .9), a[0], q(a, .1), q(a, .5), q(a, .9), n - 1))


def timeline(logs, t0, step, until):
    n = len(logs)
    ev = []
    for i, recs in enumerate(logs):
        for r in recs:
            m = r.get("msg")
            if m == "libp2p host started":
                continue
            ev.append((ts(r) - t0, i, m, r.get("change", ""), r.get("peer", "")))
    ev.sort(key=lambda e: e[0])
    st = [{} for _ in range(n)]
    views_alive = 0
    counts = collections.Counter()
    edge = step
    k = 0

    def flush(edge):
        kinds = " ".join("%s=%d" % (kk.replace(" ", "_"), v) for kk, v in sorted(counts.items()))
        print("%6.1fs %7.2f%%  %s" % (edge, 100 * views_alive / (n * (n - 1)), kinds))
        counts.clear()

    for t, i, m, ch, p in ev:
        while t >= edge:
            if edge > until:
                return
            flush(edge)
            edge += step
        if m == "member":
            old, new = st[i].get(p), alive(ch)
            views_alive += (new == "alive") - (old == "alive")
            st[i][p] = new
            counts[ch] += 1
        else:
            counts[m] += 1
    if edge <= until:
        flush(edge)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("dir")
    ap.add_argument("report", nargs="?", default="joins", choices=["joins", "known", "timeline"])
    ap.add_argument("--at", default="2,4,8,15,30")
    ap.add_argument("--step", type=float, default=2)
    ap.add_argument("--until", type=float, default=60)
    a = ap.parse_args()
    logs, t0 = load(a.dir)
    if a.report == "joins":
        joins(logs, t0)
    elif a.report == "known":
        known(logs, t0, [float(x) for x in a.at.split(",")])
    else:
        timeline(logs, t0, a.step, a.until)


if __name__ == "__main__":
    main()
