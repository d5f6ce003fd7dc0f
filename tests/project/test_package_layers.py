"""The package's folders are its data flow: support -> sources -> preparation -> model, with the
command line and the results' keys on top. Nothing imports from a layer above its own, and the
data side runs without Keras (a data-only user, or `python -m chestxray organize`, never loads it)."""

import ast
import subprocess
import sys

from conftest import ROOT

PACKAGE = ROOT / "python" / "chestxray"
LAYERS = ["support", "sources", "preparation", "model"]
TOP = {"__init__", "__main__", "cli", "results"}


def layer_of(module: str) -> int:
    """0-3 for the layers in order, 4 for the top (the package itself, cli, results)."""
    parts = module.split(".")
    return LAYERS.index(parts[1]) if len(parts) > 1 and parts[1] in LAYERS else len(LAYERS)


def is_module(name: str) -> bool:
    """chestxray.support.console is a module; chestxray.DEFAULT_FINDING is a name in one."""
    path = PACKAGE.joinpath(*name.split(".")[1:])
    return path.with_suffix(".py").is_file() or (path / "__init__.py").is_file()


def package_modules() -> dict[str, ast.Module]:
    modules = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        name = ".".join(("chestxray", *path.relative_to(PACKAGE).with_suffix("").parts))
        modules[name] = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    return modules


def imported(tree: ast.Module) -> list[str]:
    """Every chestxray module a file imports, at the top or inside a function."""
    names = []
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom):
            assert node.level == 0, f"relative import from .{node.module}: the package imports by full name"
            if node.module.split(".")[0] == "chestxray":
                names += [node.module] + [f"{node.module}.{alias.name}" for alias in node.names
                                          if is_module(f"{node.module}.{alias.name}")]
        elif isinstance(node, ast.Import):
            names += [alias.name for alias in node.names if alias.name.split(".")[0] == "chestxray"]
    return names


def test_every_module_lives_in_a_layer_folder_or_on_top():
    modules = package_modules()
    for name in modules:
        parts = name.split(".")
        assert (len(parts) == 2 and parts[1] in TOP) or (len(parts) == 3 and parts[1] in LAYERS), name
    for layer in LAYERS:
        assert any(name.startswith(f"chestxray.{layer}.") for name in modules), f"empty layer {layer}"


def test_no_module_imports_from_a_layer_above_its_own():
    upward = [
        f"{name} -> {target}"
        for name, tree in package_modules().items()
        for target in imported(tree)
        if layer_of(target) > layer_of(name) and target != "chestxray"  # the package's root: two constants
    ]
    assert upward == []


def test_the_layer_check_sees_function_level_imports():
    tree = ast.parse(
        "def f():\n    from chestxray.model.backend import import_keras\n    from chestxray.model import training\n"
    )
    assert imported(tree) == ["chestxray.model.backend", "chestxray.model", "chestxray.model.training"]
    assert layer_of("chestxray.model.backend") > layer_of("chestxray.preparation.dataset")


def test_the_data_side_and_the_command_line_import_no_deep_learning_library():
    code = ("import sys; import chestxray.preparation.dataset, chestxray.preparation.organize, chestxray.cli; "
            "print(sorted({m.split('.')[0] for m in sys.modules} & {'keras', 'tensorflow', 'jax', 'torch'}))")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120,
                          env={"PYTHONPATH": str(ROOT / "python"), "PATH": "/usr/bin:/bin"})
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[]"


def test_the_readmes_layout_names_every_file_of_the_package_r_and_scripts():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    layout = readme[readme.index("## Layout"):readme.index("## Tests")]
    files = [
        *PACKAGE.rglob("*"),
        *(ROOT / "R").rglob("*.R"),
        *(ROOT / "scripts").iterdir(),
        *(ROOT / "assets").iterdir(),
        *(ROOT / "tests" / "helpers").glob("*.py"),
    ]
    unnamed = sorted(
        str(path.relative_to(ROOT)) for path in files
        if path.is_file() and "__pycache__" not in path.parts and "nih_metadata" not in path.parts
        and ".py" not in path.suffixes[:-1]  # module.py.meta and the like: mutmut's, in its copy
        and path.name != "__init__.py" and path.name not in layout
    )
    assert "nih_metadata/" in layout and unnamed == []
