#!/usr/bin/env python3
"""Turns tests/bench/run's results.json into results.md (tables and the targets) and
results.svg (p99 latency and deliveries/s against viewers, forum vs the peers). Standard library
only.   usage: report.py results.json OUTDIR"""
import json
import math
import os
import sys

SERVERS = ["forum", "node", "bun"]
NAMES = {"forum": "forum (forumd)", "node": "Node + ws", "bun": "Bun"}
COLORS = {"forum": "#1f6feb", "node": "#2da44e", "bun": "#d4a72c"}


def ms(v):
    return "lost" if v is None else (f"{v:.0f}" if v >= 100 else f"{v:.1f}")


def k(v):
    if v is None:
        return "-"
    return f"{v / 1000:.0f}k" if v >= 10000 else f"{v / 1000:.1f}k"


def pct(v):
    return "-" if v is None else f"{v:.0f}%"


def mib(kib):
    return "-" if not kib else f"{kib / 1024:.0f} MiB"


def by(records, scenario):
    return [r for r in records if r.get("scenario") == scenario]


def fanout_index(records):
    idx = {}
    for r in by(records, "fanout"):
        idx[(r["server"], r["viewers"], r["rate"])] = r
    return idx


def nearest(idx, server, viewers, rate):
    """The record for server at rate whose viewer count is the one asked for (joins that fell a
    little short still count for their size)."""
    best = None
    for (s, v, rt), r in idx.items():
        if s == server and rt == rate and abs(v - viewers) <= viewers * 0.02:
            best = r
    return best


def tables(data):
    recs = data["records"]
    m = data["machine"]
    out = []
    out.append("# Forum benchmark results\n")
    out.append(
        f"Measured {m.get('date', '?')} at commit `{m.get('git', '?')}` on {m.get('cores')} cores "
        f"({m.get('cpu', '?')}), {m.get('mem_gib')} GiB, kernel {m.get('kernel')}, "
        f"{m.get('fd_limit')} descriptors per process, ports {m.get('port_range')} per source "
        f"address; server pinned to core 0 and load generator to core 1: "
        f"{'yes' if m.get('pinned') else 'no'}. Node {m.get('node')}, Bun {m.get('bun')}. "
        f"Load average before/after: {m.get('loadavg_start')} / {data.get('loadavg_end')}. "
        f"Run took {data.get('elapsed_s')} s; failed runs: {data.get('failures')}.\n")
    out.append("How to read this: docs/performance.md. Latency is from the moderator writing the "
               "change to a viewer reading the event (CLOCK_MONOTONIC on both ends); `lost` means "
               "some changes never reached some viewers within the drain time, so the percentile "
               "is unbounded. Deliveries/s counts event messages read by all viewers during the "
               "measured window; `offered` is what the changes would produce if every viewer got "
               "every event. CPU is percent of one core.\n")

    fo = by(recs, "fanout")
    if fo:
        out.append("## Fan-out (scenario 1)\n")
        out.append("| viewers | R/s | server | p50 ms | p99 ms | max ms | deliveries/s | offered/s "
                   "| msgs/frame | server CPU | server RSS | gen CPU | lost | dropped |")
        out.append("|---:|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
        for r in sorted(fo, key=lambda r: (r["viewers"], r["rate"], SERVERS.index(r["server"])
                                           if r["server"] in SERVERS else 9)):
            lat = r["latency_ms"]
            frames = r.get("frames_per_s") or 0
            mpf = r["deliveries_per_s"] / frames if frames else 0
            out.append(
                f"| {r['viewers']} | {r['rate']} | {r['server']} | {ms(lat['p50'])} | "
                f"{ms(lat['p99'])} | {ms(lat['max'])} | {k(r['deliveries_per_s'])} | "
                f"{k(r['offered_per_s'])} | {mpf:.1f} | {pct(r['server_cpu_pct'])} | "
                f"{mib(r['server_rss_kib'])} | {pct(r['gen_cpu_pct'])} | {r['missing']} | "
                f"{r['closed']} |")
        out.append("")

    idle = by(recs, "idle")
    if idle:
        out.append("## Idle memory (scenario 4)\n")
        out.append("| viewers | server | RSS before | RSS with viewers | per idle viewer | joined in |")
        out.append("|---:|---|---:|---:|---:|---:|")
        for r in sorted(idle, key=lambda r: (r["viewers"], SERVERS.index(r["server"])
                                             if r["server"] in SERVERS else 9)):
            out.append(f"| {r['viewers']} | {r['server']} | {mib(r['rss_before_kib'])} | "
                       f"{mib(r['rss_after_kib'])} | {r['kib_per_viewer']:.2f} KiB | "
                       f"{r.get('join_s', 0):.1f} s |")
        out.append("")

    sub = by(recs, "submit")
    if sub:
        out.append("## Submission storm (scenario 2)\n")
        out.append("M submitters keep one question.submit in flight each (1,000; 2,000 when nobody "
                   "watches, where 1,000 would reach their own rate limit of 1,000 per minute each "
                   "first). Their questions are pending (premoderated: they reach staff and the author only). `watched session`: "
                   "the submitters are viewers of the session the fan-out viewers watch change at R/s; "
                   "`N other sessions`: they write elsewhere; fan-out `none`: nobody watches.\n")
        out.append("| synchronous | mode | submitters | into | fan-out viewers x R | acks/s | ack p50 ms | "
                   "ack p99 ms | ack max ms | fan-out p99 ms | rate limited | errors | server CPU |")
        out.append("|---|---|---:|---|---|---:|---:|---:|---:|---:|---:|---:|---:|")
        for r in sub:
            mode = r["mode"] if r["mode"] == "storm" else f"paced {r['target_per_s']:.0f}/s"
            fan = f"{r['fanout_viewers']} x {r['fanout_rate']}" if r["fanout_viewers"] else "none"
            into = ("watched session" if r.get("same_session") else f"{r['sessions']} other sessions")
            out.append(f"| {r['synchronous']} | {mode} | {r['submitters']} | {into} | {fan} | "
                       f"{r['acks_per_s']:.0f} | "
                       f"{ms(r['ack_ms']['p50'])} | {ms(r['ack_ms']['p99'])} | "
                       f"{ms(r['ack_ms']['max'])} | {ms(r['fanout_latency_ms']['p99'])} | "
                       f"{r['rate_limited']} | {r['errors']} | {pct(r['server_cpu_pct'])} |")
        out.append("")

    vote = by(recs, "vote")
    if vote:
        out.append("## Vote storm (scenario 3)\n")
        out.append("| viewers | questions | votes acked/s | ack p50 ms | ack p99 ms | votes.changed "
                   "per viewer/s | stored votes (acked + unanswered) | rate limited | server CPU |")
        out.append("|---:|---:|---:|---:|---:|---:|---|---:|---:|")
        for r in vote:
            out.append(f"| {r['viewers']} | {r['questions']} | {r['votes_per_s']:.0f} | "
                       f"{ms(r['ack_ms']['p50'])} | {ms(r['ack_ms']['p99'])} | "
                       f"{r['votes_changed_per_viewer_per_s']:.1f} | "
                       f"{'ok' if r['stored_matches'] else 'MISMATCH'}: {r['votes_stored']} "
                       f"({r['votes_acked_total']} + {r.get('votes_unanswered', 0)}) | "
                       f"{r['rate_limited']} | {pct(r['server_cpu_pct'])} |")
        out.append("")

    rec = by(recs, "reconnect")
    if rec:
        out.append("## Reconnect storm (scenario 5)\n")
        out.append("| viewers | offline s | caught up | all caught up in | p50 ms | p99 ms | resumed "
                   "| fresh snapshot | missing events | failed |")
        out.append("|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
        for r in rec:
            c = r["catchup_ms"]
            out.append(f"| {r['viewers']} | {r['offline_s']:.1f} | {r['caught_up']} | "
                       f"{r['all_caught_up_ms']:.0f} ms | {ms(c['p50'])} | {ms(c['p99'])} | "
                       f"{r['resumed']} | {r['fresh']} | {r['missing_events']} | {r['failed']} |")
        out.append("")

    rec = by(recs, "join")
    if rec:
        out.append("## Join storm (scenario 6)\n")
        out.append("| viewers | questions in the session | all welcomed in | welcome each | "
                   "sent in all | server CPU | RSS after | failed |")
        out.append("|---:|---:|---:|---:|---:|---:|---:|---:|")
        for r in rec:
            out.append(f"| {r['viewers']} | {r['questions']} | {r['all_welcomed_s']:.1f} s | "
                       f"{r['welcome_kib_each']:.1f} KiB | {r['bytes_total'] / 1048576:.1f} MiB | "
                       f"{r['server_cpu_s']:.1f} s | {r['rss_after_kib'] / 1024:.0f} MiB | "
                       f"{r['failed'] + r['refused']} |")
        out.append("")

    out.append("## Targets\n")
    out.append("| target | measured | verdict |")
    out.append("|---|---|---|")
    for t in targets(recs):
        out.append(f"| {t[0]} | {t[1]} | {t[2]} |")
    out.append("")
    return "\n".join(out)


def verdict(ok):
    return "met" if ok else "**missed**"


def targets(recs):
    res = []
    idx = fanout_index(recs)
    idle = {(r["server"], r["viewers"]): r for r in by(recs, "idle")}
    big = [r for (s, v), r in idle.items() if s == "forum" and v >= 19000]
    if big:
        r = big[0]
        res.append(("19.5k viewers on one forumd process", f"{r['viewers']} joined",
                    verdict(r["viewers"] >= 19500)))
    f5 = nearest(idx, "forum", 10000, 5)
    if f5:
        p99 = f5["latency_ms"]["p99"]
        res.append(("change p99 <= 50 ms at 10k viewers x 5/s", f"{ms(p99)} ms",
                    verdict(p99 is not None and p99 <= 50) +
                    ("" if p99 is not None and p99 <= 50 else
                     f" ({'lost events' if p99 is None else f'{p99 / 50:.1f}x the target'})")))
        for peer in ("node", "bun"):
            pr = nearest(idx, peer, 10000, 5)
            if not pr:
                continue
            pp = pr["latency_ms"]["p99"]
            ok = p99 is not None and (pp is None or p99 <= pp / 2)
            res.append((f"p99 <= half of {NAMES[peer]} at 10k x 5/s",
                        f"forum {ms(p99)}, {peer} {ms(pp)} (ms)", verdict(ok)))
    f50, b50 = nearest(idx, "forum", 10000, 50), nearest(idx, "bun", 10000, 50)
    if f50 and b50:
        p99, bp = f50["latency_ms"]["p99"], b50["latency_ms"]["p99"]
        res.append(("fan-out p99 at 10k x 50/s no worse than Bun's", f"forum {ms(p99)}, bun {ms(bp)} (ms)",
                    verdict(p99 is not None and (bp is None or p99 <= bp))))
    for rate in (5, 50):
        f = nearest(idx, "forum", 10000, rate)
        if not f:
            continue
        for peer, factor in (("node", 2.0), ("bun", 1.5)):
            pr = nearest(idx, peer, 10000, rate)
            if not pr:
                continue
            ratio = f["deliveries_per_s"] / pr["deliveries_per_s"] if pr["deliveries_per_s"] else math.inf
            res.append((f"deliveries/s at 10k, R={rate}: >= {factor}x {NAMES[peer]}",
                        f"{k(f['deliveries_per_s'])} vs {k(pr['deliveries_per_s'])} = {ratio:.2f}x"
                        f" (offered {k(f['offered_per_s'])})",
                        verdict(ratio >= factor)))
        if rate == 50:
            res.append(("deliveries/s >= 300k at 10k, R=50", k(f["deliveries_per_s"]),
                        verdict(f["deliveries_per_s"] >= 300000)))
    if big:
        r = big[0]
        res.append(("idle viewer <= 3 KiB RSS at 19.5k", f"{r['kib_per_viewer']:.2f} KiB",
                    verdict(r["kib_per_viewer"] <= 3)))
    for (s, v), r in sorted(idle.items()):
        if s != "forum" and v >= 19000:
            res.append((f"(reference) idle viewer on {NAMES[s]} at {v}",
                        f"{r['kib_per_viewer']:.2f} KiB", "-"))
    for r in by(recs, "submit"):
        if (r["mode"] == "storm" and r["synchronous"] == "full" and r["fanout_viewers"]
                and r.get("same_session")):
            res.append((">= 7,500 acknowledged questions/s, synchronous=full, 10k viewers watching "
                        "at 5/s", f"{r['acks_per_s']:.0f}/s", verdict(r["acks_per_s"] >= 7500)))
        if r["mode"] == "storm" and r["synchronous"] == "full" and not r["fanout_viewers"]:
            res.append((">= 20,000 acknowledged questions/s with nobody watching",
                        f"{r['acks_per_s']:.0f}/s", verdict(r["acks_per_s"] >= 20000)))
        if r["mode"] == "storm" and r["fanout_viewers"] and not r.get("same_session"):
            res.append((f"(context) the storm into {r['sessions']} other sessions, fan-out running",
                        f"{r['acks_per_s']:.0f}/s", "-"))
        if r["mode"] == "paced":
            p99 = r["ack_ms"]["p99"]
            res.append((f"ack p99 <= 100 ms at {r['target_per_s']:.0f}/s while fan-out runs",
                        f"{ms(p99)} ms ({r['acks_per_s']:.0f}/s acked)",
                        verdict(p99 is not None and p99 <= 100)))
    for r in by(recs, "vote"):
        p99 = r["ack_ms"]["p99"] if "ack_ms" in r else None
        res.append(("vote storm at 10k viewers: >= 45,000 votes/s acked, ack p99 <= 250 ms",
                    f"{r['votes_per_s']:.0f}/s, p99 {ms(p99)} ms",
                    verdict(r["votes_per_s"] >= 45000 and p99 is not None and p99 <= 250)))
    for r in by(recs, "reconnect"):
        ok = r["ok"] and r["all_caught_up_ms"] <= 3000
        res.append(("reconnect storm of 10k caught up within 3 s, none missing an event",
                    f"{r['caught_up']}/{r['viewers']} in {r['all_caught_up_ms']:.0f} ms, "
                    f"{r['missing_events']} missing", verdict(ok)))
    return res


def svg(data):
    recs = by(data["records"], "fanout")
    sizes = sorted({r["viewers"] for r in recs})
    if not sizes:
        return '<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"/>'
    W, H = 1000, 460
    pw, ph = 400, 300
    panels = [(70, "p99 latency, ms (log scale)"), (570, "deliveries per second")]
    top = 70
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{W}" height="{H}" '
             f'viewBox="0 0 {W} {H}" font-family="sans-serif" font-size="12">',
             '<rect width="100%" height="100%" fill="white"/>',
             f'<text x="{W / 2}" y="24" text-anchor="middle" font-size="16" font-weight="bold">'
             'Fan-out: forum vs Node ws vs Bun (2 cores, loopback, same run)</text>',
             f'<text x="{W / 2}" y="44" text-anchor="middle" fill="#555">solid: R = 5 changes/s, '
             'dashed: R = 50 changes/s; ▲ at the top (filled R = 5, hollow R = 50): some changes never '
             'arrived, p99 unbounded'
             '</text>']

    def xpos(x0, v):
        i = sizes.index(v)
        return x0 + (pw * (i + 0.5) / len(sizes))

    lat_vals = [r["latency_ms"]["p99"] for r in recs if r["latency_ms"]["p99"]]
    lmin = 10 ** math.floor(math.log10(max(min(lat_vals), 0.1))) if lat_vals else 1
    lmax = 10 ** math.ceil(math.log10(max(lat_vals))) if lat_vals else 1000
    if lmax <= lmin:
        lmax = lmin * 10
    dmax = max([r["deliveries_per_s"] for r in recs] + [1])
    mag = 10 ** math.floor(math.log10(dmax))
    dmax = math.ceil(dmax / mag) * mag

    def ylat(v):
        return top + ph - (math.log10(v) - math.log10(lmin)) / (math.log10(lmax) - math.log10(lmin)) * ph

    def ydel(v):
        return top + ph - v / dmax * ph

    for x0, title in panels:
        parts.append(f'<rect x="{x0}" y="{top}" width="{pw}" height="{ph}" fill="none" stroke="#999"/>')
        parts.append(f'<text x="{x0 + pw / 2}" y="{top - 8}" text-anchor="middle" '
                     f'font-weight="bold">{title}</text>')
        for v in sizes:
            parts.append(f'<text x="{xpos(x0, v):.1f}" y="{top + ph + 18}" text-anchor="middle">'
                         f'{v}</text>')
        parts.append(f'<text x="{x0 + pw / 2}" y="{top + ph + 36}" text-anchor="middle">viewers</text>')
    # latency grid
    d = lmin
    while d <= lmax * 1.0001:
        y = ylat(d)
        parts.append(f'<line x1="{panels[0][0]}" x2="{panels[0][0] + pw}" y1="{y:.1f}" y2="{y:.1f}" '
                     'stroke="#eee"/>')
        parts.append(f'<text x="{panels[0][0] - 6}" y="{y + 4:.1f}" text-anchor="end">{d:g}</text>')
        d *= 10
    for i in range(6):
        v = dmax * i / 5
        y = ydel(v)
        parts.append(f'<line x1="{panels[1][0]}" x2="{panels[1][0] + pw}" y1="{y:.1f}" y2="{y:.1f}" '
                     'stroke="#eee"/>')
        parts.append(f'<text x="{panels[1][0] - 6}" y="{y + 4:.1f}" text-anchor="end">{k(v) if v else 0}</text>')
    for server in SERVERS:
        for rate, dash in ((5, ""), (50, ' stroke-dasharray="6,4"')):
            pts = sorted((r["viewers"], r) for r in recs if r["server"] == server and r["rate"] == rate)
            if not pts:
                continue
            c = COLORS[server]
            lp, dp = [], []
            for v, r in pts:
                p99 = r["latency_ms"]["p99"]
                x = xpos(panels[0][0], v)
                if p99 is None:  # a marker per server and rate, side by side
                    tx = x + (SERVERS.index(server) * 2 + (rate == 50) - 2.5) * 11
                    fill = c if rate == 5 else "white"
                    parts.append(f'<path d="M{tx - 5:.1f},{top + 10} L{tx + 5:.1f},{top + 10} '
                                 f'L{tx:.1f},{top + 1} Z" fill="{fill}" stroke="{c}" stroke-width="1.5"/>')
                else:
                    lp.append((x, ylat(max(p99, lmin))))
                dp.append((xpos(panels[1][0], v), ydel(r["deliveries_per_s"])))
            for series in (lp, dp):
                if len(series) > 1:
                    parts.append(f'<polyline fill="none" stroke="{c}" stroke-width="2"{dash} points="' +
                                 " ".join(f"{x:.1f},{y:.1f}" for x, y in series) + '"/>')
                for x, y in series:
                    parts.append(f'<circle cx="{x:.1f}" cy="{y:.1f}" r="3.5" fill="{c}"/>')
    lx = 70
    for server in SERVERS:
        if not any(r["server"] == server for r in recs):
            continue
        parts.append(f'<rect x="{lx}" y="{H - 28}" width="14" height="14" fill="{COLORS[server]}"/>')
        parts.append(f'<text x="{lx + 20}" y="{H - 16}">{NAMES[server]}</text>')
        lx += 170
    parts.append("</svg>")
    return "\n".join(parts)


def main():
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    with open(sys.argv[1]) as f:
        data = json.load(f)
    os.makedirs(sys.argv[2], exist_ok=True)
    with open(os.path.join(sys.argv[2], "results.md"), "w") as f:
        f.write(tables(data))
    with open(os.path.join(sys.argv[2], "results.svg"), "w") as f:
        f.write(svg(data))


if __name__ == "__main__":
    main()
