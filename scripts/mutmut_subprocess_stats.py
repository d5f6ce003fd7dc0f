"""pytest plugin for mutmut's stats run (loaded by scripts/mutate_py.py): counts the
Python functions that tests reach through subprocesses (Rscript with reticulate,
`python -m chestxray`) as covered by those tests.

mutmut maps each test to the functions it calls by recording calls in the pytest
process only; most of chestxray.model.training runs inside R's embedded Python, so without
this its mutants would have no tests. During the stats run a sitecustomize.py put on
PYTHONPATH makes every Python subprocess append the functions it enters to a file;
before mutmut files the test's calls (its own teardown hook), they are merged in.
During mutant runs this plugin does nothing: subprocesses inherit MUTANT_UNDER_TEST
and run the mutant anyway.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

import pytest

SITECUSTOMIZE = '''
import os

if os.environ.get("MUTANT_UNDER_TEST") == "stats" and os.environ.get("MUTMUT_SUBPROCESS_HITS"):
    # mutmut reads its configuration from the working folder: load it there once.
    _cwd = os.getcwd()
    os.chdir(os.environ["MUTMUT_STATS_ROOT"])
    try:
        from mutmut.configuration import config
        import mutmut.mutation.trampoline as _trampoline
        config()
    finally:
        os.chdir(_cwd)
    _hits_file = os.path.join(os.environ["MUTMUT_SUBPROCESS_HITS"], f"hits-{os.getpid()}.txt")
    _seen = set()
    _record = _trampoline.record_trampoline_hit

    def _record_and_write(name, caller=None):
        _record(name, caller)
        if name not in _seen:  # written at once: embedded Python may never run atexit
            _seen.add(name)
            with open(_hits_file, "a", encoding="utf-8") as out:
                out.write(name + "\\n")

    _trampoline.record_trampoline_hit = _record_and_write

try:  # the system's own sitecustomize, which this one shadows
    exec(open("/etc/python3.11/sitecustomize.py").read())
except OSError:
    pass
'''


def stats_run() -> bool:
    return os.environ.get("MUTANT_UNDER_TEST") == "stats"


def pytest_configure(config):
    if not stats_run():
        return
    folder = Path(tempfile.mkdtemp(prefix="mutmut-hits-"))
    (folder / "sitecustomize.py").write_text(SITECUSTOMIZE, encoding="utf-8")
    config._mutmut_hits = folder
    config._mutmut_saved_env = {
        k: os.environ.get(k) for k in ("PYTHONPATH", "MUTMUT_SUBPROCESS_HITS", "MUTMUT_STATS_ROOT")
    }
    os.environ["PYTHONPATH"] = os.pathsep.join(filter(None, [str(folder), os.environ.get("PYTHONPATH")]))
    os.environ["MUTMUT_SUBPROCESS_HITS"] = str(folder)
    os.environ["MUTMUT_STATS_ROOT"] = os.getcwd()  # mutmut's mutants/ folder, where its setup.cfg is


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_teardown(item, nextitem):
    folder = getattr(item.config, "_mutmut_hits", None)
    if folder is None:
        return
    from mutmut.state import state

    for hits in folder.glob("hits-*.txt"):
        state()._stats.update(filter(None, hits.read_text(encoding="utf-8").splitlines()))
        hits.unlink()


def pytest_unconfigure(config):
    folder = getattr(config, "_mutmut_hits", None)
    if folder is None:
        return
    for name, value in config._mutmut_saved_env.items():
        if value is None:
            os.environ.pop(name, None)
        else:
            os.environ[name] = value
    shutil.rmtree(folder, ignore_errors=True)
