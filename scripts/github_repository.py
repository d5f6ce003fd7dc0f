"""Where the project lives on GitHub, for links that launch it elsewhere (Colab's clone, Binder).

GitHub Actions' variables where they are set, else the git remote `origin`; OWNER/REPO when neither
names a GitHub repository. Standard library only.
"""
from __future__ import annotations

import os
import re
import subprocess
from pathlib import Path

UNKNOWN = "OWNER/REPO"
ROOT = Path(__file__).resolve().parents[1]


def github_repository(root: Path = ROOT) -> tuple[str, str]:
    """(owner/name, branch): GitHub Actions' variables, else the git remote `origin` and branch main."""
    repository = os.environ.get("GITHUB_REPOSITORY", "")
    branch = os.environ.get("GITHUB_REF_NAME", "") if os.environ.get("GITHUB_REF_TYPE", "branch") == "branch" else ""
    if not repository:
        done = subprocess.run(["git", "remote", "get-url", "origin"], cwd=root, capture_output=True, text=True)
        match = re.search(r"github\.com[:/]([^/]+/[^/]+?)(?:\.git)?$", done.stdout.strip())
        repository = match.group(1) if match else UNKNOWN
    if not branch:  # the remote's default branch, as the clone recorded it
        done = subprocess.run(["git", "symbolic-ref", "--short", "refs/remotes/origin/HEAD"], cwd=root,
                              capture_output=True, text=True)
        branch = done.stdout.strip().removeprefix("origin/") if done.returncode == 0 else ""
    return repository, branch or "main"


def binder_url(repository: str, branch: str) -> str:
    """mybinder.org builds the repository's Dockerfile and opens the notebook twin in JupyterLab."""
    return f"https://mybinder.org/v2/gh/{repository}/{branch}?urlpath=lab/tree/_output/report.ipynb"
