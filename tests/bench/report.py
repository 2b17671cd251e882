#!/usr/bin/env python3
"""Prints the benchmark's figures (tests/bench/run.sh) beside their references: medians and
ratios only, one table per section, then the machine they were measured on.

    report.py RESULTS.jsonl [SECONDS]
"""
import json
import os
import platform
import statistics
import subprocess
import sys


def load(path):
    rows = []
    for line in open(path):
        line = line.strip()
        if line:
            try:
                rows.append(json.loads(line))
            except json.JSONDecodeError:
                print(f"(unreadable result line: {line[:80]})")
    return rows


def ratio(a, b):
    return f"{a / b:.2f}x" if a is not None and b else "-"


def num(x, fmt="{:.1f}"):
    return "-" if x is None else fmt.format(x)


def section(rows, name):
    return [r for r in rows if r.get("section") == name]


def skipped(rows):
    for r in rows:
        if "skipped" in r:
            print(f"  skipped: {r['skipped']}")
            return True
    return False


def idle(rows):
    if not rows:
        return
    print("\n1. Idle verdicts through the kernel firewall (nftables on the lab router)")
    if skipped(rows):
        return
    print(f"  {'action':<10}{'T s':>6}{'verdict':>13}{'bracket s':>14}{'holds T':>9}"
          f"{'width s':>9}{'wall s':>8}{'longest':>9}{'wall/longest':>14}")
    for r in rows:
        bracket = f"[{num(r['survived_s'])}, {num(r['failed_s'])}]"
        print(f"  {r['action']:<10}{r['timeout_s']:>6.1f}{r['failure'] or '-':>13}{bracket:>14}"
              f"{'yes' if r['contains_t'] else 'NO':>9}{num(r['width_s']):>9}{r['wall_s']:>8.1f}"
              f"{r['longest_rung_s']:>9.1f}{ratio(r['wall_s'], r['longest_rung_s']):>14}")
    held = sum(r["contains_t"] for r in rows)
    widths = [r["width_s"] for r in rows if r["width_s"] is not None]
    over = [r["wall_s"] - r["longest_rung_s"] for r in rows if r["longest_rung_s"]]
    print(f"  bracket holds T in {held} of {len(rows)}; median width "
          f"{num(statistics.median(widths) if widths else None)} s; median wall over longest "
          f"rung +{num(statistics.median(over) if over else None)} s")


def phases(rows):
    if not rows:
        return
    print(f"\n2. Phase timings through a 40 ms each-way delay (p50 of {rows[0]['samples']}; "
          "the middlebox accepts locally, so connect carries no delay)")
    print(f"  {'phase':<12}{'probe ms':>10}{'curl ms':>10}{'probe/curl':>12}{'delay ms':>10}"
          f"{'probe/delay':>13}")
    for r in rows:
        p, c, d = r["probe_p50_ms"], r["curl_p50_ms"], r["delay_ms"]
        print(f"  {r['phase']:<12}{num(p):>10}{num(c):>10}{ratio(p, c):>12}{num(d):>10}"
              f"{ratio(p, d) if d else '-':>13}")


def hold(rows):
    if not rows:
        return
    print("\n3a. mock-relay holding idle TLS + WebSocket listener channels, each pushed once at "
          "its own time (latency: arrival - due)")
    if skipped(rows):
        return
    print(f"  {'held':>7}{'RSS MiB':>9}{'KiB/conn':>10}{'push p50 ms':>13}{'p99 ms':>8}"
          f"{'max ms':>8}{'missing':>9}")
    for r in rows:
        lat = r["push_latency"]
        print(f"  {r['connections']:>7}{r['held_rss_mib']:>9.1f}{r['kib_per_conn']:>10.1f}"
              f"{lat['p50_ms']:>13.2f}{lat['p99_ms']:>8.2f}{lat['max_ms']:>8.1f}"
              f"{r['pushes_missing']:>9}")
    last = max(rows, key=lambda r: r["connections"])
    per = last["kib_per_conn"]
    print(f"  target 16 KiB/conn: {'met' if per <= 16 else 'NOT met'} ({per:.1f}); 100,000 "
          f"listeners extrapolated: {(last['baseline_rss_mib'] + per * 100_000 / 1024) / 1024:.2f} GiB")


def handshakes(rows):
    if not rows:
        return
    print("\n3b. Full TLS handshakes per second, same ECDSA P-256 certificate, server on one core")
    skipped([r for r in rows if r.get("server") == "nginx"])
    by = {(r.get("server"), r.get("mode")): r for r in rows if "skipped" not in r}
    print(f"  {'mode':<8}{'mock-relay/s':>14}{'nginx/s':>10}{'ratio':>8}{'relay CPU':>11}"
          f"{'nginx CPU':>11}{'per CPU s ratio':>17}")
    for mode in ["flight", "full"]:
        m, n = by.get(("mock-relay", mode)), by.get(("nginx", mode))
        if not m:
            continue
        print(f"  {mode:<8}{m['per_second']:>14.0f}{num(n and n['per_second'], '{:.0f}'):>10}"
              f"{ratio(m['per_second'], n and n['per_second']):>8}"
              f"{m['server_cpu_cores']:>11.2f}{num(n and n['server_cpu_cores'], '{:.2f}'):>11}"
              f"{ratio(m['per_server_cpu_second'], n and n['per_server_cpu_second']):>17}")
    print("  flight: the client replays one ClientHello and reads the server's whole first flight "
          "(no client crypto, so the server saturates); full: complete handshakes both sides")


def footprint(rows, ladders):
    if rows:
        r = rows[0]
        print(f"\n4. probe footprint\n  probe run --quick: {r['probe_ms']:.1f} ms median wall, curl "
              f"{r['curl_ms']:.1f} ms: {ratio(r['probe_ms'], r['curl_ms'])} ({r['runs']} runs each)")
    for r in ladders:
        print(f"  idle ladder of {r['connections']} connections: peak RSS "
              f"{r['peak_rss_mib']:.1f} MiB; the whole run {r['wall_s']:.2f} s for a longest rung "
              f"of {r['longest_rung_s']:.1f} s: {ratio(r['wall_s'], r['longest_rung_s'])} "
              f"(verdict {r['verdict']})")
    if len(ladders) >= 2:
        a, b = sorted(ladders, key=lambda r: r["connections"])[:2]
        per = (b["peak_rss_mib"] - a["peak_rss_mib"]) * 1024 / (b["connections"] - a["connections"])
        print(f"  {per:.1f} KiB per further ladder connection")


def relayed(rows):
    if not rows:
        return
    print("\n5. Hybrid Connections through mock-relay beside the same work over direct TLS (one "
          "process, loopback, same run)")
    for r in rows:
        if "error" in r:
            print(f"  {r['section']}: could not run: {r['error']}")
    by = {r["section"]: r["report"] for r in rows if "report" in r}
    req = by.get("requests")
    if req:
        rel, dir_ = req["relay"], req["direct"]
        print(f"  request mode: {rel['connections']} keep-alive HTTPS connections for "
              f"{rel['seconds']:.0f} s; {req['listeners']} listeners answer on their control channels; "
              f"relay CPU {req['relay_cpu_cores']:.2f} cores")
        print(f"  {'path':<10}{'req/s':>10}{'p50 ms':>9}{'p99 ms':>9}{'max ms':>9}{'errors':>8}")
        for name, r in [("relay", rel), ("direct", dir_)]:
            print(f"  {name:<10}{r['per_second']:>10.0f}{r['p50_ms']:>9.3f}{r['p99_ms']:>9.3f}"
                  f"{r['max_ms']:>9.1f}{r['errors']:>8}")
        added = rel["p50_ms"] - dir_["p50_ms"]
        share = rel["per_second"] / dir_["per_second"] if dir_["per_second"] else 0
        print(f"  relay adds {added:.3f} ms at p50 (goal < 1 ms: {'met' if added < 1 else 'NOT met'}); "
              f"{ratio(rel['per_second'], dir_['per_second'])} the direct requests/s (goal >= 0.5x: "
              f"{'met' if share >= 0.5 else 'NOT met'}); listeners got {req['listener_received']} "
              f"requests for {rel['requests']} answered")
        print(f"  CPU per request, every process on the path: relay {req['relay_path_cpu_us']:.0f} us, "
              f"direct {req['direct_cpu_us']:.0f} us: {ratio(req['relay_path_cpu_us'], req['direct_cpu_us'])}")
    ren = by.get("rendezvous")
    if ren:
        rel, dir_ = ren["relay"], ren["direct"]
        share = rel["mb_per_s"] / dir_["mb_per_s"] if dir_["mb_per_s"] else 0
        print(f"  rendezvous, {rel['message_bytes'] // 1048576} MiB messages one way, each "
              f"acknowledged: relay {rel['mb_per_s']:.0f} MB/s ({rel['messages']} of {rel['sent']}), "
              f"direct TLS WebSocket {dir_['mb_per_s']:.0f} MB/s: "
              f"{ratio(rel['mb_per_s'], dir_['mb_per_s'])} (goal >= 0.5x: "
              f"{'met' if share >= 0.5 else 'NOT met'})")
    mem = by.get("memory")
    if mem:
        per = (mem["listening_rss_mib"] - mem["baseline_rss_mib"]) * 1024 / mem["listeners"]
        print(f"  relay RSS: {mem['baseline_rss_mib']:.1f} MiB alone, "
              f"{mem['listening_rss_mib']:.1f} MiB with {mem['listeners']} listeners "
              f"({per:.1f} KiB each, {mem['entities']} entities), {mem['in_flight_rss_mib']:.1f} MiB "
              f"with {mem['delivered']} of {mem['in_flight']} requests held in flight; "
              f"{mem['answered']} answered once released")


def watch(rows):
    if not rows:
        return
    r = rows[0]
    print(f"\n6. probe watch for the long run: {r['relay_targets']} relay:// and {r['hc_targets']} "
          "hc:// targets on one mock-relay, a push about every second each (release, loopback)")
    warm, end = r["warm"], r["end"]
    print(f"  pushes {r['pushes']} in {r['wall_s']:.0f} s: {r['pushes_per_s']:.0f}/s; delivered "
          f"{r['delivered_share'] * 100:.2f} %; {r['reopens']} reopens; exit code {r['exit_code']}"
          f"{' (stopped at its limit)' if r['stopped_by_limit'] else ''}")
    print(f"  {'':<26}{'pushes':>9}{'RSS MiB':>9}{'fds':>6}{'threads':>9}")
    for name, s in [("after warm-up (10 %)", warm), ("at the end", end)]:
        print(f"  {name:<26}{s['pushes']:>9}{s['rss_kib'] / 1024:>9.1f}{s['fds']:>6}{s['threads']:>9}")
    print(f"  RSS end - warm-up {(end['rss_kib'] - warm['rss_kib']) / 1024:+.1f} MiB; peak RSS "
          f"{r['peak_rss_mib']:.1f} MiB")
    print(f"  CPU per push: probe watch {r['cpu_us_per_push']:.0f} us (after warm-up, first half "
          f"{r['cpu_us_per_push_first_half']:.0f} us, second half {r['cpu_us_per_push_second_half']:.0f} us); "
          f"mock-relay {r['relay_cpu_us_per_push']:.0f} us: "
          f"{ratio(r['cpu_us_per_push'], r['relay_cpu_us_per_push'])} the relay's")
    print(f"  load average at the end: {r['load_average']}")


def machine():
    model = "?"
    try:
        for line in open("/proc/cpuinfo"):
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem = "?"
    try:
        for line in open("/proc/meminfo"):
            if line.startswith("MemTotal"):
                mem = f"{int(line.split()[1]) / 1024 / 1024:.0f} GiB"
    except OSError:
        pass

    def version(cmd, words):
        try:
            out = subprocess.run(cmd, capture_output=True, text=True, timeout=5)
            return " ".join((out.stdout or out.stderr).splitlines()[0].split()[words])
        except (OSError, IndexError, subprocess.TimeoutExpired):
            return "not installed"

    print(f"\nmachine: {os.cpu_count()} cores ({model}), {mem}, {platform.system()} "
          f"{platform.release()}; {version(['curl', '--version'], slice(0, 2))}; {version(['nginx', '-v'], slice(-1, None))}")


def main():
    rows = load(sys.argv[1])
    idle(section(rows, "idle"))
    phases(section(rows, "phases"))
    hold(section(rows, "hold"))
    handshakes(section(rows, "handshake"))
    footprint(section(rows, "quick"), section(rows, "ladder"))
    relayed([r for r in rows if r.get("section") in ("requests", "rendezvous", "memory")])
    watch(section(rows, "watch"))
    machine()
    if len(sys.argv) > 2:
        print(f"benchmark wall time: {int(sys.argv[2]) // 60} min {int(sys.argv[2]) % 60} s")


if __name__ == "__main__":
    main()
