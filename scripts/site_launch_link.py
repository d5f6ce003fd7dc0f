"""make site: a "launch Binder" link at the top of the published report (_site/index.html).

    python3 scripts/site_launch_link.py _site/index.html

The link opens the notebook twin in JupyterLab on mybinder.org, which builds the repository's
Dockerfile. The repository is GitHub Actions' (the publish workflow) or the `origin` remote; where
neither names one, the page is left as it is and this says so. Standard library only.
"""
from __future__ import annotations

import re
import sys
from html import escape
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from github_repository import UNKNOWN, binder_url, github_repository  # noqa: E402

MARK = 'class="launch-binder"'


def launch_paragraph(repository: str, branch: str) -> str:
    return (f'<p {MARK} style="text-align:right;margin:0.5em 1em">'
            f'<a href="{escape(binder_url(repository, branch))}">'
            f'<img src="https://mybinder.org/badge_logo.svg" alt="Ejecutar el cuaderno en Binder"></a> '
            f'Ejecute este informe como cuaderno de Jupyter en Binder ({escape(repository)}).</p>')


def add_link(page: Path, repository: str, branch: str) -> bool:
    html = page.read_text(encoding="utf-8")
    if MARK in html:
        return False
    head_end = html.find("</head>")  # the page's own <body>, not a string in the head's scripts
    body = re.compile(r"<body[^>]*>").search(html, max(head_end, 0))
    if body is None:
        raise SystemExit(f"site_launch_link: {page} has no <body> tag")
    page.write_text(html[:body.end()] + launch_paragraph(repository, branch) + html[body.end():], encoding="utf-8")
    return True


if __name__ == "__main__":
    if len(sys.argv) != 2:
        raise SystemExit("usage: python3 scripts/site_launch_link.py _site/index.html")
    repository, branch = github_repository()
    if repository == UNKNOWN:
        print("site: no GitHub repository known (GITHUB_REPOSITORY or an origin remote); no Binder link")
    else:
        add_link(Path(sys.argv[1]), repository, branch)
        print(f"site: Binder link for {repository} ({branch}) added to {sys.argv[1]}")
