"""What the split rests on: the test split keeps the data's prevalence (the cap governs
training), patients that are unknown are counted, identical files across splits are found."""

import hashlib
import os
import shutil

import pandas as pd
import pytest

from chestxray.preparation.dataset import prepare_dataset, prepare_table
from chestxray.sources.folders import read_class_folders

from conftest import NIH_IMAGES, fixture


def nih_folders(root, rename=lambda name: name):
    labels = pd.read_csv(fixture("nih", "images", "labels.csv"))
    for folder, mask in (("Pneumothorax", labels["pneumothorax_any"] == 1), ("No-Finding", labels["no_finding"] == 1)):
        (root / folder).mkdir(parents=True)
        for name in labels.loc[mask, "file"]:
            os.symlink(NIH_IMAGES / name, root / folder / rename(name))
    return root


def test_cap_governs_training_and_test_keeps_the_data_prevalence(tmp_path):
    data = nih_folders(tmp_path / "data")  # 22 pneumothorax, 50 no finding: prevalence 0.31
    prepared = prepare_dataset("folder", str(data), 8, 32, 3, cache_dir=str(tmp_path / "cache"))
    table = prepared.table
    for split in ("train", "validation"):
        counts = table[table["split"] == split]["label"].value_counts()
        assert counts.max() <= 8
    test = table[table["split"] == "test"]
    eligible = prepared.eligible["test"]
    assert len(test) == eligible["images"] and test["label"].sum() == eligible["positives"]
    assert sum(v["images"] for v in prepared.eligible.values()) == 72
    assert test["label"].mean() < 0.5  # the data's imbalance, not a balanced sample
    assert (table.groupby("patient_id")["split"].nunique() == 1).all()


def test_unknown_patients_are_counted(tmp_path):
    data = nih_folders(tmp_path / "data", rename=lambda name: f"scan-{name}")  # no NIH names, no metadata
    table = read_class_folders(data)
    assert set(table["patient_source"]) == {"unknown"}
    assert table["patient_id"].nunique() == len(table)  # each image its own patient
    listed = table["image"].head(10)
    pd.DataFrame({"image": listed, "patient_id": ["p1"] * 5 + ["p2"] * 5}).to_csv(data / "metadata.csv", index=False)
    prepared = prepare_dataset("folder", str(data), 100, 32, 3, cache_dir=str(tmp_path / "cache"))
    integrity = prepared.integrity()
    assert integrity["images_with_unknown_patient"] == 72 - 10
    assert integrity["patient_sources"] == {"unknown": 62, "metadata": 10}


def test_nih_names_give_known_patients(tmp_path):
    table = read_class_folders(nih_folders(tmp_path / "data"))
    assert set(table["patient_source"]) == {"nih_file_name"}


def test_identical_files_in_two_splits_are_found(tmp_path):
    names = sorted(p.name for p in NIH_IMAGES.glob("*.png"))[:6]
    copy = tmp_path / "copy-of-first.png"
    shutil.copyfile(NIH_IMAGES / names[0], copy)
    table = pd.DataFrame({
        "path": [str(NIH_IMAGES / n) for n in names] + [str(copy)],
        "image": names + [copy.name], "label": [1, 0, 1, 0, 1, 0, 1],
        "patient_id": list("abcdefg"), "split": ["train", "train", "validation", "validation", "test", "test", "test"],
    })
    prepared = prepare_table(table, 32, 0, cache_dir=str(tmp_path / "cache"))
    expected = hashlib.sha256((NIH_IMAGES / names[0]).read_bytes()).hexdigest()
    assert prepared.table.loc[prepared.table["image"] == copy.name, "content_sha256"].item() == expected
    groups = prepared.integrity()["identical_images_across_splits"]
    assert groups == [
        {"content_sha256": expected, "images": sorted([names[0], copy.name]), "splits": ["test", "train"]}
    ]


def r_list(values: dict) -> str:
    """An R named list literal from a flat dict of numbers and strings."""
    items = [f'{k} = {v!r}' if not isinstance(v, str) else f'{k} = "{v}"' for k, v in values.items()]
    return f"list({', '.join(items)})"


def prevalence_sentence(r_session, drifting: list[str], official_test: bool) -> str:
    splits = r_list({"train": 0.074, "validation": 0.074, "test": 0.037})
    drift = "character(0)" if not drifting else "c(" + ", ".join(f'"{d}"' for d in drifting) + ")"
    return r_session(f'prevalence_text(list(data = 0.0642, reference = {0.074 if official_test else 0.0642}, '
                     f'official_test = {"TRUE" if official_test else "FALSE"}, splits = {splits}, '
                     f'drifting = {drift}, tolerance = 0.2), "neumotórax")')[0]


def test_the_report_states_each_splits_prevalence(r_session):
    text = prevalence_sentence(r_session, [], False)
    assert (
        "Prevalencia de neumotórax por parte, antes del límite por clase: entrenamiento 7,4\u00a0%, validación "
        "7,4\u00a0%, "
        "test 3,7\u00a0%; en los datos elegibles, 6,4\u00a0%."
    ) in text
    assert "Ninguna parte se aparta más de un 20\u00a0% de la de los datos." in text


def test_the_report_says_when_a_split_drifts_and_why(r_session):
    text = prevalence_sentence(r_session, ["test"], False)
    assert "**La prevalencia de test se aparta más de un 20\u00a0% de la de los datos**" in text
    assert "algunos reúnen muchas imágenes de una misma clase" in text and "lista oficial" not in text


def test_with_nihs_official_test_list_the_report_names_the_pool_the_parts_are_compared_with(r_session):
    text = prevalence_sentence(r_session, ["test"], True)
    assert ("Entrenamiento y validación se reparten, por paciente, las imágenes que no están en la lista oficial de "
            "test del NIH (prevalencia 7,4\u00a0%), y cada parte se compara con esa cifra.") in text
    assert (
        "**La prevalencia de test se aparta más de un 20\u00a0% de la de entrenamiento y validación juntos**: la lista "
        "oficial de test del NIH se conserva tal cual, con su propia prevalencia."
    ) in text
    assert "algunos reúnen muchas imágenes" not in text  # the rule's parts do not drift: no patient reason
    both = prevalence_sentence(r_session, ["validation", "test"], True)
    assert "se conserva tal cual, con su propia prevalencia; los pacientes no se dividen entre partes" in both


def test_the_report_says_where_nihs_metadata_comes_from(r_session):
    from chestxray.sources.nih import NIH_IMAGES, NIH_PATIENTS

    from conftest import run_r
    from spanish import es_number

    packaged = run_r('nih_metadata_text(TRUE, "x", FALSE, TRUE)')  # the release's size is Python's (run_r)
    assert (
        "vienen con el paquete, en `python/chestxray/sources/nih_metadata/`" in packaged
        and "torchxrayvision" in packaged
        and f"las mismas {es_number(NIH_IMAGES)} filas de {es_number(NIH_PATIENTS)} pacientes" in packaged
    )
    mine = r_session('nih_metadata_text(FALSE, "/data/Data_Entry_2017_v2020.csv", FALSE, TRUE)')[0]
    assert "la copia indicada en `nih_metadata` (`/data/Data_Entry_2017_v2020.csv`)" in mine
    assert "no es byte a byte el archivo del NIH" in mine and "la del NIH que viene con el paquete" in mine
    official = r_session('nih_metadata_text(FALSE, "/d/D.csv", TRUE, FALSE)')[0]
    assert "byte a byte el archivo del NIH (SHA-1 comprobado)" in official and "la que acompaña a esa copia" in official


@pytest.mark.parametrize("unknown, opening", [
    (0, "El paciente de cada imagen se conoce (fuente: metadatos)"),
    (1, "**1 imagen no tiene paciente conocido**"),
    (2, "**2 imágenes no tienen paciente conocido**"),
])
def test_the_report_says_how_many_images_have_no_known_patient(r_session, unknown, opening):
    text = r_session(f"patient_text(list(images_with_unknown_patient = {unknown}L, "
                     f"patient_sources = list(metadata = 10L)))")[0]
    assert text.startswith(opening), text


def test_the_report_quotes_the_split_rules_shares():
    from chestxray.preparation.split import FOLDS, TEST_SHARE, VALIDATION_SHARE

    from conftest import run_r

    quoted = run_r('list(shares = as.list(split_shares()), percent = es_percent(split_shares()[["test"]], 0), '
                   'folds = split_folds())')
    assert quoted["shares"] == pytest.approx({"train": 1 - VALIDATION_SHARE - TEST_SHARE,
                                              "validation": VALIDATION_SHARE, "test": TEST_SHARE})
    assert quoted["percent"] == f"{round(100 * TEST_SHARE)}\u00a0%" and quoted["folds"] == FOLDS
