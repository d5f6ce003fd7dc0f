"""Files the project wrote itself are checked before they are read back (chestxray.support.integrity):
checked JSON (its own SHA-256 inside), manifests of other files, the download verification records and the
content-hash memo. Each damage (truncated, a byte changed in the middle, the check removed) is detected, said
on the console, and the file rebuilt with the values of a fresh build (computed here with hashlib)."""

import hashlib
import io
import json
import tarfile

import pytest

from chestxray.preparation.dataset import content_hashes
from chestxray.sources.download import Remote, download_file
from chestxray.support.integrity import (
    DamagedFileError,
    damaged_files,
    read_checked_json,
    write_checked_json,
    write_manifest,
)

from conftest import run_r
from http_faults import FaultyServer

CONTENT = {"files": {"a.png": [1000, 17, "ab" * 32]}, "note": "ünïcode", "rows": [1, 2.5, None]}


def truncate(path, keep: int | None = None) -> None:
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2 if keep is None else keep])


def change_middle_byte(path) -> None:
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0x01
    path.write_bytes(bytes(data))


def strip_check(path) -> None:
    """Checked JSON rewritten as its bare content: the SHA-256 it carried is gone."""
    path.write_text(json.dumps(read_checked_json(path)))


# --- Checked JSON --------------------------------------------------------------------------------------------

def test_checked_json_reads_back_what_was_written_as_plain_json(tmp_path):
    path = tmp_path / "record.json"
    write_checked_json(path, CONTENT)
    assert read_checked_json(path) == CONTENT
    stored = json.loads(path.read_text())  # plain JSON that any reader (R's jsonlite) can open
    assert stored["content"] == CONTENT
    assert stored["sha256"] == hashlib.sha256(json.dumps(CONTENT).encode()).hexdigest()
    assert [p.name for p in tmp_path.iterdir()] == ["record.json"]  # no temporary file left


def test_every_truncation_and_every_changed_byte_of_checked_json_is_detected(tmp_path):
    path = tmp_path / "record.json"
    write_checked_json(path, CONTENT)
    whole = path.read_bytes()
    for keep in range(len(whole)):
        path.write_bytes(whole[:keep])
        with pytest.raises(DamagedFileError, match="record.json' is damaged"):
            read_checked_json(path)
    for position in range(len(whole)):
        changed = bytearray(whole)
        changed[position] ^= 0x01
        path.write_bytes(bytes(changed))
        with pytest.raises(DamagedFileError):
            read_checked_json(path)


def test_json_without_its_sha256_is_damaged_and_an_absent_file_is_only_absent(tmp_path):
    path = tmp_path / "record.json"
    write_checked_json(path, CONTENT)
    strip_check(path)  # as an older version wrote it
    with pytest.raises(DamagedFileError, match="does not carry the SHA-256 of its content"):
        read_checked_json(path)
    with pytest.raises(FileNotFoundError):
        read_checked_json(tmp_path / "absent.json")


# --- Manifests -----------------------------------------------------------------------------------------------

@pytest.fixture()
def stored(tmp_path):
    """A folder of results as R leaves it: two files, then their manifest."""
    (tmp_path / "training.rds").write_bytes(bytes(range(256)) * 40)
    (tmp_path / "weights.keras").write_bytes(b"w" * 5000)
    write_manifest(tmp_path, ["training.rds", "weights.keras"])
    return tmp_path


def test_a_whole_folder_has_no_damaged_files_and_its_manifest_holds_sizes_and_sha256(stored):
    assert damaged_files(stored) == {}
    files = read_checked_json(stored / "manifest.json")["files"]
    data = (stored / "training.rds").read_bytes()
    assert files["training.rds"] == {"bytes": len(data), "sha256": hashlib.sha256(data).hexdigest()}


def test_a_truncated_changed_or_missing_file_is_named_with_its_problem(stored):
    truncate(stored / "training.rds")
    assert damaged_files(stored) == {"training.rds": "truncated or extended: 5120 bytes, 10240 when written"}
    write_manifest(stored, ["training.rds", "weights.keras"])
    change_middle_byte(stored / "weights.keras")  # same size: only the SHA-256 tells
    assert damaged_files(stored) == {"weights.keras": "changed: its bytes differ from those written (SHA-256 mismatch)"}
    (stored / "weights.keras").unlink()
    assert damaged_files(stored) == {"weights.keras": "missing"}


def test_a_missing_or_damaged_manifest_is_itself_named(stored):
    change_middle_byte(stored / "manifest.json")
    assert list(damaged_files(stored)) == ["manifest.json"]
    truncate(stored / "manifest.json")
    assert "SHA-256" in damaged_files(stored)["manifest.json"]
    (stored / "manifest.json").unlink()
    assert damaged_files(stored) == {"manifest.json": "missing"}


def test_manifests_of_other_names_live_side_by_side(tmp_path):
    (tmp_path / "a.npy").write_bytes(b"a" * 10)
    (tmp_path / "b.npy").write_bytes(b"b" * 10)
    write_manifest(tmp_path, "a.npy", manifest="a.manifest.json")  # one name as a string, as R's c("a.npy") arrives
    write_manifest(tmp_path, ["b.npy"], manifest="b.manifest.json")
    truncate(tmp_path / "b.npy")
    assert damaged_files(tmp_path, "a.manifest.json") == {}
    assert list(damaged_files(tmp_path, "b.manifest.json")) == ["b.npy"]


def test_r_writes_and_checks_a_manifest_through_reticulate(tmp_path):
    result = run_r(f"""
      integrity <- import_chestxray("support.integrity")
      folder <- "{tmp_path}"
      saveRDS(list(auroc = 0.8), file.path(folder, "training.rds"))
      integrity$write_manifest(folder, c("training.rds"))
      whole <- integrity$damaged_files(folder)
      bytes <- readBin(file.path(folder, "training.rds"), "raw", 1e6)
      writeBin(bytes[seq_len(length(bytes) - 3)], file.path(folder, "training.rds"))
      damaged <- integrity$damaged_files(folder)
      list(whole = length(whole), damaged = names(damaged), problem = damaged[["training.rds"]])
    """)
    assert result["whole"] == 0 and result["damaged"] == "training.rds"
    assert result["problem"].startswith("truncated or extended")


# --- The content-hash memo -----------------------------------------------------------------------------------

def damage_memo_hash(memo) -> None:
    """One hex digit of a stored hash in the middle of the memo changed: still valid JSON, a wrong value."""
    text = memo.read_text()
    entries = list(read_checked_json(memo).values())
    position = text.index(entries[len(entries) // 2][-1]) + 10
    memo.write_text(text[:position] + ("0" if text[position] != "0" else "1") + text[position + 1:])


@pytest.mark.parametrize("damage, problem", [
    (truncate, "does not carry the SHA-256"),
    (damage_memo_hash, "does not match the SHA-256 it carries"),
    (strip_check, "does not carry the SHA-256"),
])
def test_a_damaged_memo_is_said_recomputed_and_rewritten(tmp_path, capfd, damage, problem):
    files = [tmp_path / f"{i}.png" for i in range(5)]
    for i, f in enumerate(files):
        f.write_bytes(bytes([i]) * 3000)
    paths, memo = [str(f) for f in files], tmp_path / "cache" / "content-sha256.json"
    truth = [hashlib.sha256(f.read_bytes()).hexdigest() for f in files]
    content_hashes(paths, memo_path=memo)
    capfd.readouterr()
    damage(memo)
    assert content_hashes(paths, memo_path=memo) == truth
    console = capfd.readouterr().err
    assert f"warning: the content-hash memo is damaged ('{memo}': " in console and problem in console
    assert "computing every file's SHA-256 again" in console and "0 reused" in console and "5 computed" in console
    assert [read_checked_json(memo)[p][-1] for p in paths] == truth  # rewritten whole
    assert content_hashes(paths, memo_path=memo) == truth
    assert "5 reused" in capfd.readouterr().err  # and trusted again


# --- Download verification records ---------------------------------------------------------------------------

ARCHIVE_NAME = "images_01.tar.gz"


@pytest.fixture(scope="module")
def archive() -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as tar:
        info = tarfile.TarInfo("images/00000001_000.png")
        info.size = 4000
        tar.addfile(info, io.BytesIO(bytes(range(250)) * 16))
    return buffer.getvalue()


def edit_recorded_sha1(record) -> None:
    """The record's SHA-1 edited to a wrong one, the file still valid JSON of the right shape."""
    stored = json.loads(record.read_text())
    record.write_text(record.read_text().replace(stored["content"]["sha1"], "0" * 40))


@pytest.mark.parametrize("damage, problem", [
    (truncate, "does not carry the SHA-256"),
    (change_middle_byte, "SHA-256"),
    (edit_recorded_sha1, "does not match the SHA-256 it carries"),
    (strip_check, "does not carry the SHA-256"),
    (lambda record: record.unlink(), None),  # no record: verified again, nothing to say
])
def test_a_damaged_verification_record_is_said_ignored_and_the_file_verified_again(
        archive, tmp_path, capfd, monkeypatch, damage, problem):
    import chestxray.sources.download as download

    sha1 = hashlib.sha1(archive).hexdigest()
    record = tmp_path / f".verified-{ARCHIVE_NAME}.json"
    with FaultyServer({ARCHIVE_NAME: archive}) as server:
        remote = Remote(ARCHIVE_NAME, f"{server.url}/{ARCHIVE_NAME}", sha1=sha1, from_nih=True)
        download_file(remote, tmp_path, backoff=0.01, timeout=5)
        sent = dict(server.sent)
        capfd.readouterr()
        damage(record)
        verified = []
        real = download.read_and_check
        monkeypatch.setattr(download, "read_and_check", lambda *args: verified.append(args[1]) or real(*args))
        assert download_file(remote, tmp_path, backoff=0.01, timeout=5).read_bytes() == archive
        assert server.sent == sent  # verified on disk, not fetched again
    assert verified == [ARCHIVE_NAME]
    console = capfd.readouterr().err
    if problem is None:
        assert "damaged" not in console
    else:
        assert (f"warning: the verification record of {ARCHIVE_NAME} is damaged ('{record}': " in console
                and problem in console and f"ignoring it and verifying {ARCHIVE_NAME} again" in console)
    assert read_checked_json(record)["sha1"] == sha1  # rewritten whole
    assert not (tmp_path / f"{ARCHIVE_NAME}.corrupt").exists()
