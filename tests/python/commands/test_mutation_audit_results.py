"""Mutation audit of chestxray.results (mutmut, 2026-12-07): a stored result's key, spelled out.

tests/r/run/test_stored_results.py holds keys to what changes them; here each digest is the SHA-256 (hashlib) of
text written out by hand, so the key cannot drift with a JSON or CSV writer's defaults (separators, ASCII escapes,
line endings, an index column), and module_files' import graph is followed through every kind of import statement
on a package made here.
"""

import hashlib
import json
import os
import subprocess
import sys
import types
from importlib import metadata
from pathlib import Path

import pandas as pd
import pytest

import chestxray
from chestxray.results import data_digest, key_of, library_versions, module_files, source_digests, table_digest

TABLE = pd.DataFrame({"image": ["a.png", "b.png"], "label": [1, 0], "split": ["train", "test"]})
IMAGE_LABEL = hashlib.sha256(b"image,label\na.png,1\nb.png,0\n").hexdigest()


def sha256_text(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


# --- key_of ------------------------------------------------------------------------------------------------

def test_a_key_is_the_sha256_of_compact_sorted_json_with_its_letters_unescaped():
    inputs = {"model": "pulmón", "code": {"b.R": "ñ", "a.R": [1, 2.5, None, True]}}
    canonical = '{"code":{"a.R":[1,2.5,null,true],"b.R":"ñ"},"model":"pulmón"}'
    assert key_of(inputs) == sha256_text(canonical)[:16]


@pytest.mark.parametrize("value", [float("nan"), float("inf"), -float("inf")])
def test_a_key_of_a_value_json_cannot_write_is_refused(value):
    with pytest.raises(ValueError, match="Out of range float values are not JSON compliant"):
        key_of({"auroc": value})


# --- table_digest, data_digest -----------------------------------------------------------------------------

def test_a_table_digest_is_the_sha256_of_its_columns_as_csv_without_an_index():
    assert table_digest(TABLE, ["image", "label"]) == IMAGE_LABEL
    assert table_digest(TABLE, "label") == hashlib.sha256(b"label\n1\n0\n").hexdigest()  # R's c("label")


def test_a_table_digest_ends_lines_with_a_newline_on_any_system(monkeypatch):
    monkeypatch.setattr(os, "linesep", "\r\n")  # as on Windows, where pandas would write \r\n by default
    assert table_digest(TABLE, ["image", "label"]) == IMAGE_LABEL


def test_a_missing_column_is_named_with_every_other_missing_one():
    with pytest.raises(KeyError) as raised:
        table_digest(TABLE, ["image", "patient", "view"])
    assert raised.value.args == ("the table lacks column(s) patient, view",)


def test_data_digest_is_the_digest_of_the_prepared_datas_table():
    prepared = types.SimpleNamespace(table=TABLE)
    assert data_digest(prepared, ["image", "label"]) == IMAGE_LABEL


# --- source_digests ----------------------------------------------------------------------------------------

def test_source_digests_take_one_file_named_alone(tmp_path):
    (tmp_path / "train.R").write_bytes(b"f <- 1\r\n")
    assert source_digests(tmp_path, "train.R") == {"train.R": hashlib.sha256(b"f <- 1\n").hexdigest()}


# --- module_files ------------------------------------------------------------------------------------------

def write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")


@pytest.fixture()
def project(tmp_path) -> Path:
    """python/chestxray with every kind of import: from-imports of modules and of names, plain imports,
    imports of other libraries, packages reached only as packages, and a module's table."""
    package = tmp_path / "python" / "chestxray"
    write(package / "__init__.py", "")
    write(package / "top" / "__init__.py", "")
    write(package / "top" / "m.py",
          "# pulmón\n"
          "from chestxray.p import q\n"
          "import os\n"
          "import chestxray.c.w\n"
          "from chestxray.d import e\n")
    write(package / "p" / "__init__.py", "")
    write(package / "p" / "q.py", "")
    write(package / "c" / "__init__.py", "")
    write(package / "c" / "w.py", "import json\n")
    write(package / "c" / "w.csv", "finding\nEffusion\n")  # w's own table
    write(package / "d" / "__init__.py", "E = 1\n")
    write(package / "solo" / "__init__.py", "")
    write(package / "solo" / "inner" / "__init__.py", "")
    write(tmp_path / "python" / "other.py", "")  # beside the package, not in it
    return tmp_path


M_CLOSURE = [
    "python/chestxray/__init__.py",
    "python/chestxray/c/__init__.py",
    "python/chestxray/c/w.csv",
    "python/chestxray/c/w.py",
    "python/chestxray/d/__init__.py",
    "python/chestxray/p/__init__.py",
    "python/chestxray/p/q.py",
    "python/chestxray/top/__init__.py",
    "python/chestxray/top/m.py",
]


def test_module_files_follow_every_kind_of_import_to_modules_packages_and_tables(project):
    assert module_files(["chestxray.top.m"], project) == M_CLOSURE
    assert module_files("chestxray.top.m", project) == M_CLOSURE  # R's c("chestxray.top.m") arrives as a string


def test_a_package_brings_every_package_above_it(project):
    assert module_files(["chestxray.solo.inner"], project) == [
        "python/chestxray/__init__.py", "python/chestxray/solo/__init__.py", "python/chestxray/solo/inner/__init__.py"]


def test_module_files_read_the_project_in_the_working_folder_by_default(project, monkeypatch):
    monkeypatch.chdir(project)
    assert module_files(["chestxray.p.q"]) == [
        "python/chestxray/__init__.py", "python/chestxray/p/__init__.py", "python/chestxray/p/q.py"]


@pytest.mark.parametrize("name", ["other", "chestxray.", "chestxray.p.", "chestxray.p.q-2"])
def test_only_names_of_chestxray_modules_are_modules(project, name):
    """python/other.py is a file, but not of the package; an empty or dashed part names no module (though
    'chestxray.' would lead to python/chestxray/__init__.py)."""
    with pytest.raises(ValueError, match=f"no such module in {project / 'python'}: {name}$"):
        module_files([name], project)


def test_a_module_that_does_not_parse_is_named_in_the_error(project):
    broken = project / "python" / "chestxray" / "p" / "q.py"
    broken.write_text("def f(:\n")
    with pytest.raises(SyntaxError) as raised:
        module_files(["chestxray.p.q"], project)
    assert raised.value.filename == str(broken)


def test_module_files_read_sources_as_utf8_whatever_the_locale(project):
    """Under an ASCII locale (no UTF-8 mode, no locale coercion) the UTF-8 comment of m.py still reads."""
    code = ("import json, sys; from chestxray.results import module_files; "
            "print(json.dumps(module_files(['chestxray.top.m'], sys.argv[1])))")
    env = {**os.environ, "LC_ALL": "C", "LANG": "C", "PYTHONUTF8": "0", "PYTHONCOERCECLOCALE": "0",
           # the package this test imported, before what was there (mutmut's subprocess stats)
           "PYTHONPATH": os.pathsep.join([str(Path(chestxray.__file__).parents[1]), os.environ.get("PYTHONPATH", "")])}
    done = subprocess.run([sys.executable, "-c", code, str(project)], env=env, capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout) == M_CLOSURE


# --- library_versions --------------------------------------------------------------------------------------

def test_the_backend_is_recorded_by_name_and_version():
    import keras

    backend = keras.backend.backend()
    distributions = metadata.packages_distributions()[backend]
    assert library_versions()["backend"] in {f"{backend} {metadata.version(d)}" for d in distributions}


def test_a_backend_without_a_version_is_recorded_as_unknown(monkeypatch):
    import keras

    monkeypatch.setitem(sys.modules, "versionless_backend", types.ModuleType("versionless_backend"))
    monkeypatch.setattr(keras.backend, "backend", lambda: "versionless_backend")
    assert library_versions()["backend"] == "versionless_backend unknown"
