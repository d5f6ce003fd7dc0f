"""Train and evaluate on the real NIH images in ../shared/data (read in place), through the
report itself: class folders of symbolic links, metadata.csv for patients, `data=folder`.

    .venv/bin/python bench/real_nih_auroc.py [extra key=value render parameters]

Positives: any Pneumothorax label; negatives: No Finding; one image per NIH index (the
64 px, 256 px, 1024 px and misc sets are pooled, resized to 64 px). Prints the test
AUROC with its DeLong 95% interval from _output/metrics.json of a render in a temporary
copy of the project.
"""

import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
NIH = ROOT.parent / "shared" / "data" / "nih"
SETS = {
    "images-64": "images-64/NIH1000",
    "images-256": "images-256",
    "images-1024": "images-1024",
    "images-misc": "images-misc",
}


def collect() -> pd.DataFrame:
    frames = []
    for name, folder in SETS.items():
        labels = pd.read_csv(NIH / name / "labels.csv")
        labels["path"] = [str(next((NIH / folder).rglob(Path(f).name), NIH / folder / f)) for f in labels["file"]]
        frames.append(labels)
    table = pd.concat(frames).drop_duplicates("nih_image_index")
    return table[(table["pneumothorax_any"] == 1) | (table["no_finding"] == 1)]


def build_folders(table: pd.DataFrame, root: Path) -> None:
    for folder in ("Pneumothorax", "No-Finding"):
        (root / folder).mkdir(parents=True)
    for row in table.itertuples():
        folder = "Pneumothorax" if row.pneumothorax_any == 1 else "No-Finding"
        os.symlink(row.path, root / folder / row.nih_image_index)
    meta = table.rename(columns={"nih_image_index": "image", "patient_gender": "patient_sex"})
    meta[["image", "patient_id", "follow_up", "patient_age", "patient_sex", "view_position"]].to_csv(
        root / "metadata.csv", index=False
    )


def main() -> None:
    table = collect()
    work = Path(tempfile.mkdtemp(prefix="real-nih-"))
    try:
        build_folders(table, work / "data")
        project = work / "project"
        project.mkdir()
        for name in ("report.qmd", "_quarto.yml", "R", "python", "scripts", "assets"):
            (shutil.copytree if (ROOT / name).is_dir() else shutil.copy2)(ROOT / name, project / name)
        params = ["data=folder", f"data_dir={work / 'data'}", "n_per_class=1000", "image_size=64", "epochs=40",
                  "batch_size=32", "seed=42", *sys.argv[1:]]
        env = dict(os.environ, RETICULATE_PYTHON=str(ROOT / ".venv" / "bin" / "python"), REPORT_RENDERER="knitr")
        subprocess.run(["Rscript", "scripts/render.R", *params], cwd=project, env=env, check=True,
                       stdout=subprocess.DEVNULL)
        metrics = json.loads((project / "_output" / "metrics.json").read_text())
        positives, negatives = int(table["pneumothorax_any"].sum()), int((table["pneumothorax_any"] == 0).sum())
        print(
            f"real NIH images: {positives} pneumothorax, {negatives} no finding, {table['patient_id'].nunique()} "
            "patients"
        )
        print(f"render parameters: {' '.join(params[1:])}")
        for row in metrics["comparison"]:
            print(
                f"{row['model']}: test AUROC {row['auroc']:.3f} (95% CI DeLong "
                f"{row['ci_low']:.3f}-{row['ci_high']:.3f}), "
                f"sensitivity {row['sensitivity']}, specificity {row['specificity']}"
            )
        print(f"test set: {metrics['counts']['positives']} positive, {metrics['counts']['negatives']} negative images")
        (ROOT / "bench" / "results").mkdir(exist_ok=True)
        shutil.copy2(project / "_output" / "metrics.json", ROOT / "bench" / "results" / "real_nih_metrics.json")
    finally:
        shutil.rmtree(work)


if __name__ == "__main__":
    main()
