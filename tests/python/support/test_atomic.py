"""Files are written under a temporary name and renamed: a failure leaves neither a
half-written final file nor a stray temporary one, and keeps the previous version."""

import pytest

from chestxray.support.atomic import atomic_path


def test_success_renames_onto_the_final_name(tmp_path):
    target = tmp_path / "metrics.json"
    with atomic_path(target) as tmp:
        assert tmp.parent == target.parent and tmp.name.startswith(".")
        tmp.write_text("{}")
        assert not target.exists()
    assert target.read_text() == "{}" and not tmp.exists()


@pytest.mark.parametrize("error", [OSError("No space left on device"), KeyboardInterrupt()])
def test_failure_keeps_the_old_file_and_removes_the_partial(tmp_path, error):
    target = tmp_path / "manifest.csv"
    target.write_text("old")
    with pytest.raises(type(error)):
        with atomic_path(target) as tmp:
            tmp.write_text("half")
            raise error
    assert target.read_text() == "old"
    assert [p.name for p in tmp_path.iterdir()] == ["manifest.csv"]
