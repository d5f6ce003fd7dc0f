"""The rehearsal's growth table (for BENCHMARKS.md) from bench/results/nih_rehearsal.csv.

    .venv/bin/python bench/nih_rehearsal_table.py [--until 2026-12-05T13:30Z]

For each step, its seconds and peak memory at each scale, and the seconds per 1,000
images between consecutive scales (marginal cost): about constant for a step linear in
images, growing with the scale for a quadratic one. The latest run of each scale is used;
the prose-edit render's console lines stay in the CSV (only its total is shown).
"""

from __future__ import annotations

import argparse
import csv
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from nih_rehearsal import console_label  # noqa: E402

RENDERS = ("first render: ", "prose-edit render: ")
RESULTS = Path(__file__).resolve().parent / "results" / "nih_rehearsal.csv"


def latest_runs(rows: list[dict], until: str) -> dict[int, list[dict]]:
    """archives -> the rows of the latest run (by its date stamp, at the latest ``until``) of that scale."""
    by_scale: dict[int, dict[str, list[dict]]] = {}
    for row in rows:
        render = next((r for r in RENDERS if row["step"].startswith(r)), None)
        if render and row["note"]:  # labelled again: older runs labelled console lines by their first words
            row["step"] = render + console_label(row["note"])
        if row["date"] <= until:
            by_scale.setdefault(int(row["archives"]), {}).setdefault(row["date"], []).append(row)
    return {scale: runs[max(runs)] for scale, runs in sorted(by_scale.items())}


def images_of(rows: list[dict]) -> int:
    return int(rows[0]["archive_images"])


def table(runs: dict[int, list[dict]]) -> str:
    scales = list(runs)
    steps = list(dict.fromkeys(r["step"] for rows in runs.values() for r in rows if not r["step"].startswith(("disk", "render parameters", "prose-edit render: "))))
    lines = ["| step | " + " | ".join(f"{s} archive{'s' if s > 1 else ''}: s (MB)" for s in scales)
             + " | s per 1,000 archive images, " + ", ".join(f"{a}→{b}" for a, b in zip(scales, scales[1:])) + " |",
             "|---|" + "---|" * (len(scales) + 1)]
    for step in steps:
        cells, seconds = [], []
        for scale in scales:
            row = next((r for r in runs[scale] if r["step"] == step), None)
            seconds.append(float(row["seconds"]) if row else None)
            cells.append("" if row is None else f"{float(row['seconds']):.1f}" + (f" ({row['peak_mb']})" if row["peak_mb"] else ""))
        marginal = []
        for (a, ta), (b, tb) in zip(zip(scales, seconds), list(zip(scales, seconds))[1:]):
            if ta is None or tb is None:
                marginal.append("")
            else:
                marginal.append(f"{1000 * (tb - ta) / (images_of(runs[b]) - images_of(runs[a])):.2f}")
        lines.append(f"| {step} | " + " | ".join(cells) + " | " + ", ".join(marginal) + " |")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--until", default="9999", help="only runs started at this date or before (as in the CSV)")
    args = parser.parse_args()
    with open(RESULTS, newline="") as f:
        runs = latest_runs(list(csv.DictReader(f)), args.until)
    print(table(runs))
    for scale, rows in runs.items():
        notes = {r["step"]: r["note"] for r in rows if r["note"]}
        print(f"\n{scale} archive(s), {images_of(rows):,} images, {rows[0]['date']}, load {rows[0]['load1']}: "
              + "; ".join(f"{k}: {v}" for k, v in notes.items() if k.startswith(("disk", "render parameters", "R steps", "threshold", "test metrics", "figures", "stored"))))


if __name__ == "__main__":
    main()
