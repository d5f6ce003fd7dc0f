"""Mutation audit of chestxray.support.integrity (mutmut, 2026-12-07): what the other tests read only in part.

The exact problems a damaged file is reported with (whole sentences, not a word of them), the path an error
carries, the manifest's path returned to R, and the console line naming several damaged files at once. Expected
texts are written out here; expected digests come from hashlib.
"""

import hashlib
import json

import pytest

from chestxray.support.integrity import (
    DamagedFileError,
    announce_damage,
    damage_message,
    damaged_files,
    read_checked_json,
    write_checked_json,
    write_manifest,
)

NOT_LAID_OUT = ("it does not carry the SHA-256 of its content "
                "(truncated, changed, or written by an older version)")
NOT_MATCHING = "its content does not match the SHA-256 it carries (truncated or changed)"


def test_a_file_without_its_check_names_its_path_and_the_whole_problem(tmp_path):
    path = tmp_path / "record.json"
    path.write_text(json.dumps({"rows": [1, 2]}))  # plain JSON, as an older version wrote it
    with pytest.raises(DamagedFileError) as raised:
        read_checked_json(path)
    assert raised.value.path == str(path)
    assert raised.value.problem == NOT_LAID_OUT
    assert str(raised.value) == f"'{path}' is damaged: {NOT_LAID_OUT}"


def test_a_file_whose_content_was_changed_names_its_path_and_the_whole_problem(tmp_path):
    path = tmp_path / "record.json"
    body = json.dumps({"rows": [1, 2]}).encode()
    digest = hashlib.sha256(body).hexdigest().encode()
    path.write_bytes(b'{"sha256":"' + digest + b'","content":' + body.replace(b"2", b"3") + b"}")
    with pytest.raises(DamagedFileError) as raised:
        read_checked_json(path)
    assert raised.value.path == str(path)
    assert raised.value.problem == NOT_MATCHING
    assert str(raised.value) == f"'{path}' is damaged: {NOT_MATCHING}"
    # The same bytes with the right digest are read back: the layout written by hand is the one expected.
    path.write_bytes(b'{"sha256":"' + digest + b'","content":' + body + b"}")
    assert read_checked_json(path) == {"rows": [1, 2]}


def test_the_manifest_problem_is_the_whole_sentence_of_its_damage(tmp_path):
    (tmp_path / "a.bin").write_bytes(b"a" * 10)
    write_manifest(tmp_path, ["a.bin"])
    manifest = tmp_path / "manifest.json"
    manifest.write_text(json.dumps(json.loads(manifest.read_text())["content"]))  # its check removed
    assert damaged_files(tmp_path) == {"manifest.json": NOT_LAID_OUT}


def test_write_manifest_returns_the_manifests_path(tmp_path):
    (tmp_path / "a.bin").write_bytes(b"a" * 10)
    assert write_manifest(tmp_path, ["a.bin"]) == str(tmp_path / "manifest.json")
    assert write_manifest(tmp_path, "a.bin", manifest="a.manifest.json") == str(tmp_path / "a.manifest.json")
    assert (tmp_path / "a.manifest.json").is_file()


def test_the_console_line_names_every_damaged_file_separated_by_semicolons(capfd):
    problems = {"a.npy": "missing", "b.json": "changed: its bytes differ from those written (SHA-256 mismatch)"}
    expected = ("warning: the image cache is damaged ('a.npy': missing; 'b.json': changed: its bytes differ "
                "from those written (SHA-256 mismatch)): building it again")
    assert damage_message("the image cache", problems, "building it again") == expected
    capfd.readouterr()
    announce_damage("the image cache", problems, "building it again")
    assert expected in capfd.readouterr().err


def test_checked_json_round_trips_content_written_by_hand(tmp_path):
    """write_checked_json's bytes, spelled out: the digest of json.dumps of the content, then the content."""
    path = tmp_path / "record.json"
    content = {"done": [0, 32], "errors": [[3, "bad"]]}
    write_checked_json(path, content)
    body = json.dumps(content).encode()
    digest = hashlib.sha256(body).hexdigest().encode()
    assert path.read_bytes() == b'{"sha256":"' + digest + b'","content":' + body + b"}"
