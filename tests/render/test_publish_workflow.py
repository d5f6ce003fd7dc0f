"""The GitHub Pages workflow: it parses, installs Quarto, and builds the site with the
project's own commands (which exist and work); `make site` assembles what is published."""

import os
import re
import shutil
import subprocess

import yaml

from conftest import ROOT

WORKFLOW = ROOT / ".github" / "workflows" / "publish.yml"


def load_workflow() -> dict:
    workflow = yaml.safe_load(WORKFLOW.read_text())
    workflow["on"] = workflow.pop(True, workflow.get("on"))  # YAML 1.1 reads the key `on` as True
    return workflow


def run_lines(job: dict) -> list[str]:
    return [line.strip() for step in job["steps"] if "run" in step for line in step["run"].splitlines()]


def test_workflow_renders_with_quarto_and_the_project_commands():
    workflow = load_workflow()
    assert workflow["on"]["push"]["branches"] == ["main"] and "workflow_dispatch" in workflow["on"]
    render = workflow["jobs"]["render"]
    assert render["container"] == "debian:12"  # the system the set-up was verified on
    uses = [step.get("uses", "") for step in render["steps"]]
    assert "quarto-dev/quarto-actions/setup@v2" in uses
    commands = run_lines(render)
    assert (
        commands.index("make report")
        < commands.index("make pdf")
        < commands.index("make notebook")
        < commands.index("make site")
    )
    upload = next(step for step in render["steps"] if step.get("uses", "").startswith("actions/upload-pages-artifact@"))
    assert upload["with"]["path"] == "_site"
    deploy = workflow["jobs"]["deploy"]
    assert deploy["needs"] == "render" and deploy["steps"][0]["uses"].startswith("actions/deploy-pages@")
    assert workflow["permissions"]["pages"] == "write" and workflow["permissions"]["id-token"] == "write"


def test_every_make_target_the_workflow_names_exists():
    targets = {
        command.split()[1] for command in run_lines(load_workflow()["jobs"]["render"]) if command.startswith("make ")
    }
    assert targets == {"report", "pdf", "notebook", "site"}
    for target in targets:
        done = subprocess.run(["make", "-n", target], cwd=ROOT, capture_output=True, text=True)
        assert done.returncode == 0, done.stderr


def site_project(tmp_path):
    """A project folder (not a git clone) with the Makefile, the site's scripts and rendered outputs."""
    project = tmp_path / "project"
    (project / "scripts").mkdir(parents=True)
    shutil.copy(ROOT / "Makefile", project)
    for script in ("site_launch_link.py", "github_repository.py"):
        shutil.copy(ROOT / "scripts" / script, project / "scripts")
    (project / "assets").mkdir()
    shutil.copy(ROOT / "assets" / "output_files.csv", project / "assets")  # the list of files a render publishes
    output = project / "_output"
    output.mkdir()
    (output / "report.html").write_text('<html><head><script>var s = "<body>";</script></head>'
                                        '<body class="x">informe</body></html>')
    for name in ("metrics.json", "predictions.csv", "model.keras", "report.ipynb", "checkpoints.tmp"):
        (output / name).write_text(name)
    return project


def make_site(project, **environment):
    env = {k: v for k, v in os.environ.items() if not k.startswith("GITHUB_")}
    return subprocess.run(["make", "site"], cwd=project, capture_output=True, text=True, env=env | environment)


def test_make_site_publishes_the_report_as_index_and_the_outputs(tmp_path):
    project = site_project(tmp_path)
    done = make_site(project, GIT_CEILING_DIRECTORIES=str(tmp_path))  # no git repository: no origin remote
    assert done.returncode == 0, done.stderr
    site = project / "_site"
    assert (site / "index.html").read_text() == (project / "_output" / "report.html").read_text()  # no link added
    assert "no GitHub repository known" in done.stdout
    assert sorted(p.name for p in site.iterdir()) == ["index.html", "metrics.json", "model.keras", "predictions.csv",
                                                      "report.ipynb"]
    assert re.search(r"site: 5 files in _site/", done.stdout)


def test_make_site_links_the_published_report_to_binder(tmp_path):
    """In the publish workflow GitHub Actions names the repository and branch: the page opens with a link that
    starts the notebook twin on mybinder.org, which builds the repository's Dockerfile."""
    project = site_project(tmp_path)
    done = make_site(project, GITHUB_REPOSITORY="someone/chestxray", GITHUB_REF_NAME="main", GITHUB_REF_TYPE="branch")
    assert done.returncode == 0, done.stderr
    page = (project / "_site" / "index.html").read_text()
    link = "https://mybinder.org/v2/gh/someone/chestxray/main?urlpath=lab/tree/_output/report.ipynb"
    assert page.startswith(
        '<html><head><script>var s = "<body>";</script></head><body class="x"><p class="launch-binder"'
    )
    assert f'href="{link}"' in page
    assert page.endswith("informe</body></html>") and page.count("launch-binder") == 1
    assert "Binder link for someone/chestxray (main) added" in done.stdout


def test_make_site_without_a_report_says_what_to_run(tmp_path):
    shutil.copy(ROOT / "Makefile", tmp_path)
    done = subprocess.run(["make", "site"], cwd=tmp_path, capture_output=True, text=True)
    assert done.returncode != 0 and "run 'make report' first" in done.stderr
