"""data=nih needs nothing by hand: NIH's metadata and split lists ship with the package,
are checked at load against what is known of NIH's release, and only the image archives
are downloaded (from NIH's links or from a mirror that may hold nothing else)."""

import csv
import fnmatch
import gzip
import hashlib
import shutil
import tomllib

import pandas as pd
import pytest

import chestxray.sources.nih as nih
from chestxray.preparation.organize import prepare_nih
from chestxray.sources.metadata import MetadataError
from chestxray.sources.nih import describe, metadata_source, official_metadata, packaged_folder

from archives import nih_images_archive
from conftest import NIH_IMAGES, ROOT, TINY_PARAMS, copy_project, fixture, render
from http_faults import FaultyServer

PACKAGED = ROOT / "python" / "chestxray" / "sources" / "nih_metadata"
NIH_SHA1 = {
    row["file"]: row["sha1"]
    for row in csv.DictReader(open(ROOT / "python" / "chestxray" / "sources" / "nih_archives.csv"))
}


def test_the_packaged_files_are_nihs_release():
    """Checked here with pandas and hashlib alone: NIH's lists byte for byte, NIH's rows."""
    for name, entries in (("train_val_list.txt", 86_524), ("test_list.txt", 25_596)):
        content = gzip.decompress((PACKAGED / f"{name}.gz").read_bytes())
        assert hashlib.sha1(content).hexdigest() == NIH_SHA1[name]
        assert len(content.split()) == entries
    table = pd.read_csv(PACKAGED / "Data_Entry_2017_v2020.csv.gz", dtype=str)
    assert len(table) == 112_120 and table["Patient ID"].nunique() == 30_805
    source = official_metadata()
    assert source.packaged and source.metadata == str(packaged_folder() / "Data_Entry_2017_v2020.csv.gz")
    assert source.test_list == str(packaged_folder() / "test_list.txt.gz")


def test_a_regular_install_carries_the_packaged_files():
    """pyproject's package-data (what a wheel holds; an editable install reads the source tree) names every
    data file of every subpackage, the NIH metadata among them."""
    patterns = tomllib.loads((ROOT / "python" / "pyproject.toml").read_text())["tool"]["setuptools"]["package-data"]
    package = ROOT / "python" / "chestxray"
    # (not module.py.meta and the like: what mutmut keeps beside a module it mutates, in its copy)
    data_files = [f for f in package.rglob("*") if f.is_file() and ".py" not in f.suffixes and f.suffix != ".pyc"]
    assert len(data_files) >= 7
    for path in data_files:
        owner = path.parent
        while not (owner / "__init__.py").exists():
            owner = owner.parent
        subpackage = ".".join(owner.relative_to(package.parent).parts)
        inside = path.relative_to(owner).as_posix()
        assert any(fnmatch.fnmatch(inside, p) for p in patterns.get(subpackage, [])), f"{subpackage}: {inside}"
    assert {p.name for p in PACKAGED.iterdir()} >= {"PROVENANCE.md", "Data_Entry_2017_v2020.csv.gz",
                                                   "train_val_list.txt.gz", "test_list.txt.gz"}


def drop_last_line(path):
    lines = gzip.decompress(path.read_bytes()).splitlines(keepends=True)
    path.write_bytes(gzip.compress(b"".join(lines[:-1])))


def swap_a_list_entry(path):
    content = gzip.decompress(path.read_bytes())
    path.write_bytes(gzip.compress(content.replace(b"00000001_000.png", b"00000001_999.png", 1)))


@pytest.mark.parametrize("name, damage, message", [
    ("Data_Entry_2017_v2020.csv.gz", drop_last_line, "has 112,119 rows of 30,804 patients, not NIH's 112,120"),
    ("test_list.txt.gz", drop_last_line, "decompresses to SHA-1"),
    ("train_val_list.txt.gz", swap_a_list_entry, "decompresses to SHA-1"),
    ("test_list.txt.gz", lambda path: path.write_bytes(b"not gzip"), "cannot be read"),
])
def test_a_damaged_packaged_file_stops_naming_it(tmp_path, name, damage, message):
    folder = shutil.copytree(PACKAGED, tmp_path / "nih_metadata")
    damage(folder / name)
    with pytest.raises(MetadataError, match=rf"packaged file '{folder / name}' {message}.*reinstall chestxray"):
        official_metadata(folder)


def test_the_check_runs_once_per_process(tmp_path):
    folder = shutil.copytree(PACKAGED, tmp_path / "nih_metadata")
    first = official_metadata(folder)
    drop_last_line(folder / "test_list.txt.gz")  # not seen: the check is not repeated
    assert official_metadata(folder) == first


def test_a_users_copy_is_used_and_compared_with_nihs_sha1(tmp_path, monkeypatch):
    mine = tmp_path / "Data_Entry_2017_v2020.csv"
    mine.write_bytes(gzip.decompress((PACKAGED / "Data_Entry_2017_v2020.csv.gz").read_bytes()))
    source = metadata_source(str(mine))
    assert (source.metadata, source.packaged, source.nih_sha1) == (str(mine), False, False)
    assert "not byte for byte NIH's" in describe(source)
    assert source.test_list_packaged  # no test_list.txt beside it: NIH's, from the package
    (tmp_path / "test_list.txt").write_text("00000001_000.png\n")
    monkeypatch.setattr(nih, "nih_sha1", lambda name: hashlib.sha1(mine.read_bytes()).hexdigest())
    source = metadata_source(str(mine))
    assert source.nih_sha1 and "NIH's file byte for byte" in describe(source)
    assert source.test_list == str(tmp_path / "test_list.txt")


def test_a_missing_copy_is_named_by_the_reports_parameter(tmp_path):
    with pytest.raises(MetadataError, match=f"^nih_metadata '{tmp_path / 'none.csv'}' does not exist$"):
        metadata_source(str(tmp_path / "none.csv"))


def images_archive(names) -> bytes:
    return nih_images_archive(NIH_IMAGES, names)


def task_images():
    labels = pd.read_csv(fixture("nih", "images", "labels.csv"))
    return labels[(labels["pneumothorax_any"] == 1) | (labels["no_finding"] == 1)]


def test_a_mirror_holding_only_the_image_archives_is_enough(tmp_path):
    chosen = task_images()
    with FaultyServer({"images_01.tar.gz": images_archive(chosen["file"])}) as server:
        manifest = prepare_nih(str(tmp_path / "nih"), "1", base_url=server.url, seed=3, show_progress=False)
        asked = {name for _, name, _ in server.requests}
    assert asked == {"images_01.tar.gz"}
    assert sorted(manifest["image"]) == sorted(chosen["file"])
    official = dict(zip(chosen["file"], chosen["official_split"]))
    assert all((split == "test") == (official[image] == "test")
               for image, split in zip(manifest["image"], manifest["split"]))
    assert not (tmp_path / "nih" / "archives" / "Data_Entry_2017_v2020.csv").exists()


@pytest.mark.slow
def test_make_report_with_data_nih_renders_from_a_mirror_of_image_archives_only(tmp_path):
    project = copy_project(tmp_path / "project")
    with FaultyServer({"images_01.tar.gz": images_archive(task_images()["file"])}) as server:
        done = render(project, "data=nih", f"nih_base_url={server.url}", *TINY_PARAMS)
        asked = {name for _, name, _ in server.requests}
    assert done.returncode == 0, done.stderr[-3000:]
    assert asked == {"images_01.tar.gz"}
    html = (project / "_output" / "report.html").read_text()
    assert "Datos reales del NIH" in html and "nih_metadata/" in html
    assert "Prevalencia de neumotórax por parte, antes del límite por clase" in html
    assert "Metadata and NIH's official split lists: the package's copies" in done.stderr
