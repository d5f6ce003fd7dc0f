"""Files published in _output/ (R/run/outputs.R): written under a temporary name, renamed when complete."""

import json
import re


def r_text(r, expression):
    return json.loads(r(f"jsonlite::toJSON({expression}, auto_unbox = TRUE, digits = NA)")[0])


def test_write_atomically_leaves_nothing_behind_a_failed_writer(r_session, tmp_path):
    target = tmp_path / "out" / "metrics.json"
    used = r_text(
        r_session,
        f'{{seen <- NULL; write_atomically("{target}", function(tmp) {{ seen <<- tmp; writeLines("ok", tmp) }}); '
        "seen}",
    )
    assert re.fullmatch(rf"{re.escape(str(target.parent))}/\.metrics\.json\.\d+\.partial", used)  # per-process name
    assert target.read_text() == "ok\n"
    failed = r_session(
        f'tryCatch(write_atomically("{tmp_path}/other.json", function(tmp) '
        f'{{ writeLines("half", tmp); stop("disk full") }}), '
        'error = function(e) conditionMessage(e))'
    )[0]
    assert failed == "disk full" and sorted(p.name for p in tmp_path.iterdir()) == ["out"]
    assert sorted(p.name for p in target.parent.iterdir()) == ["metrics.json"]
