"""bench.py's output: one block per case as it ends, and the Markdown table of them all."""

from __future__ import annotations

from typing import Any


def print_row(row: dict[str, Any]) -> None:
    startup, requesting, tail = row["split_s"]
    print(f"\n{row['case']} ({row['latency_ms']:.0f} ms latency)")
    bound = (
        f"request bound {row['bound_s']:.2f} s ({row['min_requests']} requests): efficiency "
        f"{row['efficiency']:.2f}"
        if row["efficiency"] is not None
        else f"{row['min_requests']} requests minimum; CPU-bound, no request bound"
    )
    print(f"  secretsync {row['wall_s']:.2f} s median (runs {row['runs_s']}); {bound}")
    if "baseline_s" in row:
        print(
            f"  baseline   {row['baseline_s']:.2f} s median (runs {row['baseline_runs_s']}): "
            f"secretsync takes {row['vs_baseline']:.2f} x the baseline's time"
        )
        plain = f", baseline {row['baseline_req_per_secret']:.3f}"
    else:
        plain = ""
    print(
        f"  requests per secret {row['req_per_secret']:.3f}{plain}; 429s {row['throttled']}; "
        f"peak RSS {row['rss_mb']:.0f} MB"
    )
    print(f"  split: start-up {startup:.3f} s, requests {requesting:.3f} s, tail {tail:.3f} s")
    plain_cpu = f" (baseline {row['baseline_cpu_s']:.2f} s)" if "baseline_cpu_s" in row else ""
    print(f"  CPU time of the client process: {row['cpu_s']:.2f} s{plain_cpu}")
    plain_turn = (
        f" (baseline {row['baseline_turnaround_ms']:.2f} ms)"
        if "baseline_turnaround_ms" in row
        else ""
    )
    print(
        f"  slot turnaround (answer out -> that slot's next request in): "
        f"{row['turnaround_ms']:.2f} ms per request{plain_turn}"
    )


def summary(rows: list[dict[str, Any]]) -> None:
    print(
        "\n| case | latency | secretsync (median) | baseline (median) | vs baseline "
        "| request bound | efficiency | requests per secret (baseline) | 429s | peak RSS |"
    )
    print("|---|---|---|---|---|---|---|---|---|---|")
    for r in rows:
        base = f"{r['baseline_s']:.2f} s" if "baseline_s" in r else "—"
        ratio = f"**{r['vs_baseline']:.2f}**" if "vs_baseline" in r else "—"
        speed = r["efficiency"] is not None
        bound = f"{r['bound_s']:.2f} s" if speed else "—"
        efficiency = f"**{r['efficiency']:.2f}**" if speed else "—"
        per = f"{r['req_per_secret']:.3f}"
        if "baseline_req_per_secret" in r:
            per += f" ({r['baseline_req_per_secret']:.3f})"
        print(
            f"| {r['case']} | {r['latency_ms']:.0f} ms | {r['wall_s']:.2f} s | {base} | {ratio} "
            f"| {bound} | {efficiency} | {per} | {r['throttled']} "
            f"| {r['rss_mb']:.0f} MB |"
        )
