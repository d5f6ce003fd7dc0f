"""The rehearsal's growth table (for BENCHMARKS.md) from bench/results/nih_rehearsal.csv.

    .venv/bin/python bench/nih_rehearsal_table.py [--until 2026-12-05T13:30Z]

For each step, its seconds and peak memory at each scale, and its cost per image at the
largest scale over that at the one before (blank where that step took under 0.5 s there):
at most about 1 for a step linear in images, the ratio of the images for a quadratic one. The latest run of each scale
is used; the prose-edit render's console lines stay in the CSV (only its total is shown).
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
    """Seconds (peak MB) per scale, and the cost per image of the largest scale over the one before it:
    at most about 1 for a linear step (fixed costs spread thinner), the images' ratio for a quadratic one."""
    scales = list(runs)
    small, large = scales[-2:]
    quadratic = images_of(runs[large]) / images_of(runs[small])
    steps = list(dict.fromkeys(r["step"] for rows in runs.values() for r in rows
                               if not r["step"].startswith(("disk", "render parameters", "prose-edit render: "))))
    lines = ["| step | " + " | ".join(f"{s} archive{'s' if s > 1 else ''}: s (MB)" for s in scales)
             + f" | cost per image, {large} ÷ {small} archives (quadratic: {quadratic:.1f}) |",
             "|---|" + "---|" * (len(scales) + 1)]
    for step in steps:
        found = {scale: next((r for r in runs[scale] if r["step"] == step), None) for scale in scales}
        cells = [
            "" if row is None else f"{float(row['seconds']):.1f}" + (f" ({row['peak_mb']})" if row["peak_mb"] else "")
            for row in found.values()
        ]
        growth = ""
        if found[small] and found[large] and float(found[small]["seconds"]) >= 0.5:
            growth = f"{(float(found[large]['seconds']) / float(found[small]['seconds'])) / quadratic:.2f}"
        lines.append(f"| {step} | " + " | ".join(cells) + f" | {growth} |")
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
        print(
            f"\n{scale} archive(s), {images_of(rows):,} images, {rows[0]['date']}, load {rows[0]['load1']}: "
            + "; ".join(
                f"{k}: {v}"
                for k, v in notes.items()
                if k.startswith(
                    ("disk", "render parameters", "R steps", "threshold", "test metrics", "figures", "stored")
                )
            )
        )


if __name__ == "__main__":
    main()
