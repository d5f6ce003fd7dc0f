"""Read a dataset laid out as class folders, as in the original use case.

``<data_dir>/<finding>/*.png`` (``Pneumothorax/`` by default) and
``<data_dir>/No-Finding/*.png`` become a table with one row per image: path,
image name, label (1 = positive), patient.
Patients come from an optional ``metadata.csv`` beside the folders, else from
NIH-style names (``00012345_001.png`` -> patient 12345), else each image is its
own patient (the report says so, since leakage cannot then be ruled out).
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import pandas as pd

from chestxray import DEFAULT_FINDING, NEGATIVE_CLASS
from chestxray.sources.metadata import label_matrix, read_metadata
from chestxray.support.files import read_csv_strictly

# The one definition of what counts as an image file and as an NIH image name, used by
# class folders, organize, predict and download's list check; case is ignored
# everywhere (.PNG, .Png, .JPG, .jpeg all count).
IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg")
NIH_NAME = re.compile(r"(\d{8})_(\d{3})\.png", re.IGNORECASE)
METADATA_FILE = "metadata.csv"
# The multi-label study's folder: the images (in images/, or beside the file) and their labels
# in NIH's format ('Image Index', 'Finding Labels', 'Patient ID'; optional columns as NIH's).
LABELS_FILE = "labels.csv"
LABELLED_IMAGES = "images"
OPTIONAL_COLUMNS = ["follow_up", "patient_age", "patient_sex", "view_position"]


class DatasetError(ValueError):
    """The data on disk does not have the layout or content the report needs."""


def class_folder_name(label: str) -> str:
    """Folder name for a class label, as in the original: 'No Finding' -> 'No-Finding'."""
    return label.replace(" ", "-")


def has_image_suffix(name: str) -> bool:
    """A PNG or JPEG by its extension, whatever its case."""
    return name.lower().endswith(IMAGE_SUFFIXES)


def is_image_name(name: str) -> bool:
    """An image file in a folder: an image suffix, and not hidden (e.g. macOS's ._ files)."""
    return has_image_suffix(name) and not name.startswith(".")


def _list_images(folder: Path) -> list[Path]:
    return sorted(p for p in folder.iterdir() if is_image_name(p.name))


# Where an image's patient comes from: the folder's metadata.csv, an NIH file name,
# or nowhere (the image then counts as its own patient, and the report says so).
PATIENT_FROM_METADATA, PATIENT_FROM_NIH_NAME, PATIENT_UNKNOWN = "metadata", "nih_file_name", "unknown"


def _patient_from_name(name: str) -> tuple[str, str]:
    """(patient_id, patient_source) from an image name."""
    match = NIH_NAME.fullmatch(name)
    if match:
        return str(int(match.group(1))), PATIENT_FROM_NIH_NAME
    return f"image:{name}", PATIENT_UNKNOWN


def read_class_folders(
    data_dir: str | Path, positive: str = DEFAULT_FINDING, negative: str = NEGATIVE_CLASS
) -> pd.DataFrame:
    """Table of the images in the two class folders of ``data_dir``.

    Columns: path, image, label (1 positive, 0 negative), class_name, patient_id,
    patient_source (metadata, nih_file_name or unknown) and, where metadata.csv
    gives them, follow_up, patient_age, patient_sex, view_position. Raises
    DatasetError naming what is missing.
    """
    root = Path(os.path.abspath(data_dir))  # absolute paths: the table means the same from any folder
    if not root.is_dir():
        raise DatasetError(f"data_dir '{root}' does not exist or is not a folder")
    rows = []
    for label, class_name in ((1, positive), (0, negative)):
        folder = root / class_folder_name(class_name)
        if not folder.is_dir():
            found = sorted(p.name for p in root.iterdir() if p.is_dir())
            raise DatasetError(
                f"class folder '{folder}' is missing; expected '{class_folder_name(positive)}/' and "
                f"'{class_folder_name(negative)}/' in '{root}', found: {found or 'no folders'}"
            )
        images = _list_images(folder)
        if not images:
            raise DatasetError(f"class folder '{folder}' holds no PNG or JPEG images")
        rows += [
            {"path": str(p), "image": p.name, "label": label, "class_name": class_name,
             **dict(zip(("patient_id", "patient_source"), _patient_from_name(p.name)))}
            for p in images
        ]
    table = pd.DataFrame(rows)
    if table["image"].duplicated().any():
        dup = table.loc[table["image"].duplicated(), "image"].iloc[0]
        raise DatasetError(f"image '{dup}' is in both class folders; each image needs exactly one label")
    return _merge_metadata(table, root / METADATA_FILE)


def _merge_metadata(table: pd.DataFrame, metadata_path: Path) -> pd.DataFrame:
    if not metadata_path.exists():
        return table
    meta = _read_folder_metadata(metadata_path)
    missing = {"image", "patient_id"} - set(meta.columns)
    if missing:
        raise DatasetError(f"{metadata_path} lacks column(s) {sorted(missing)}; it needs 'image' and 'patient_id'")
    repeated = sorted(set(meta.loc[meta["image"].duplicated(), "image"].astype(str)))
    if repeated:
        raise DatasetError(f"{metadata_path} lists {len(repeated)} image(s) more than once, e.g. "
                           f"{', '.join(repeated[:5])}: each image needs one row (one patient)")
    keep = ["image", "patient_id"] + [c for c in OPTIONAL_COLUMNS if c in meta.columns]
    merged = table.drop(columns=["patient_id", "patient_source"]).merge(meta[keep], on="image", how="left")
    unlisted = merged["patient_id"].isna() | merged["patient_id"].astype(str).str.strip().eq("")
    merged["patient_source"] = PATIENT_FROM_METADATA
    from_names = [_patient_from_name(name) for name in merged.loc[unlisted, "image"]]
    merged.loc[unlisted, "patient_id"] = [patient for patient, _ in from_names]
    merged.loc[unlisted, "patient_source"] = [source for _, source in from_names]
    return merged


def _read_folder_metadata(path: Path) -> pd.DataFrame:
    return read_csv_strictly(path, "folder metadata file", DatasetError, dtype={"image": str, "patient_id": str})


def read_labelled_folder(data_dir: str | Path) -> pd.DataFrame:
    """The multi-label study's table of a folder with labels.csv beside its images: path, image,
    patient_id, patient_source, NIH's optional columns, and one 0/1 column per finding. Every
    image needs one row and every row one image; DatasetError (or MetadataError) says which do not."""
    root = Path(os.path.abspath(data_dir))
    labels_path = root / LABELS_FILE
    if not labels_path.is_file():
        raise DatasetError(f"'{labels_path}' is missing: a multi-label folder holds its images and a {LABELS_FILE} "
                           "in NIH's format beside them (columns 'Image Index', 'Finding Labels', 'Patient ID')")
    table = read_metadata(labels_path)
    folder = root / LABELLED_IMAGES if (root / LABELLED_IMAGES).is_dir() else root
    on_disk = {p.name for p in _list_images(folder)}
    _require_same_images(set(table["image"]), on_disk, labels_path, folder)
    table.insert(0, "path", [str(folder / name) for name in table["image"]])
    table["patient_source"] = PATIENT_FROM_METADATA
    return pd.concat([table, label_matrix(table, str(labels_path))], axis=1)


def _require_same_images(listed: set[str], on_disk: set[str], labels_path: Path, folder: Path) -> None:
    for names, problem in ((listed - on_disk, f"are listed in {labels_path} but not in '{folder}'"),
                           (on_disk - listed, f"in '{folder}' have no row in {labels_path}")):
        if names:
            raise DatasetError(f"{len(names):,} image(s) {problem}, e.g. {', '.join(sorted(names)[:5])}: "
                               "each image needs exactly one row of labels")
