"""The multi-label study's explorer (R/display/multilabel.R: one explorer per finding and a selector) in
real headless Chromium with the network off: one finding's explorer shown at a time, the selector shows
the chosen one, and each starts at its own validation threshold on its own finding's test images."""

from __future__ import annotations

import numpy as np

from browser import offline_page

FINDINGS = ["Effusion", "Mass", "Nodule"]
THRESHOLDS = [0.5, 0.3, 0.7]


def study():
    rng = np.random.default_rng(3)
    labels = (rng.random((40, 3)) < [0.4, 0.25, 0.3]).astype(int)
    scores = np.clip(0.25 + 0.4 * labels + rng.normal(0, 0.2, labels.shape), 0.001, 0.999).round(4)
    return labels, scores


def build_page(r_session, tmp_path, labels, scores):
    from rpy2 import robjects

    def matrix(values):
        m = robjects.r["matrix"](robjects.FloatVector(values.ravel(order="F")), nrow=values.shape[0])
        m.colnames = robjects.StrVector(FINDINGS)
        return m

    r_session('knitr::opts_knit$set(rmarkdown.pandoc.to = "html")')
    try:
        thresholds = robjects.r["as.list"](robjects.FloatVector(THRESHOLDS))
        fenced = r_session["multilabel_explorer_view"](matrix(labels), matrix(scores), thresholds)[0]
    finally:
        r_session('knitr::opts_knit$set(rmarkdown.pandoc.to = NULL)')
    body = fenced.split("```{=html}\n", 1)[1].rsplit("\n```", 1)[0]
    page = tmp_path / "explorers.html"
    page.write_text('<!DOCTYPE html>\n<html lang="es"><head><meta charset="utf-8"><title>Exploradores</title>'
                    f"</head><body>\n{body}\n</body></html>\n", encoding="utf-8")
    return page


VISIBLE = """() => [...document.querySelectorAll('.finding-explorer')].filter(p => !p.hidden)
    .map(p => p.dataset.finding)"""
READING = """(f) => Object.fromEntries([...document.querySelectorAll(
    `.finding-explorer[data-finding="${f}"] [data-measure]`)].map(n => [n.dataset.measure, Number(n.dataset.value)]))"""


def test_the_selector_shows_the_chosen_findings_own_explorer(r_session, tmp_path):
    labels, scores = study()
    page_path = build_page(r_session, tmp_path, labels, scores)
    errors = []
    with offline_page(page_path, errors) as page:
        assert page.evaluate(VISIBLE) == ["Effusion"]
        options = page.evaluate("() => [...document.querySelectorAll('select[name=\"finding\"] option')]"
                                ".map(o => [o.value, o.textContent])")
        assert options == [["Effusion", "Derrame pleural"], ["Mass", "Masa"], ["Nodule", "Nódulo"]]
        for choice in ("Nodule", "Mass", "Effusion", "Nodule"):
            page.select_option('select[name="finding"]', choice)
            assert page.evaluate(VISIBLE) == [choice]
        for k, finding in enumerate(FINDINGS):  # each started, on its own column and threshold
            shown = page.evaluate(READING, finding)
            predicted = scores[:, k] >= THRESHOLDS[k]
            assert (shown["tp"], shown["fp"]) == ((predicted & (labels[:, k] == 1)).sum(),
                                                  (predicted & (labels[:, k] == 0)).sum())
            assert shown["threshold"] == THRESHOLDS[k]
        heading = page.evaluate("""() => document.querySelector('.finding-explorer[data-finding="Mass"] th + th')
            .parentNode.textContent""")
        assert "Con masa" in heading and "Sin masa" in heading
    assert errors == []


def test_each_explorer_starts_once_and_its_buttons_move_only_its_own_slider(r_session, tmp_path):
    """Scripts from several explorers on one page (the binary report's and these) start each once: a second
    start would add a second set of listeners to its buttons."""
    labels, scores = study()
    page_path = build_page(r_session, tmp_path, labels, scores)
    errors = []
    with offline_page(page_path, errors) as page:
        page.evaluate("() => { const s = document.createElement('script');"
                      " s.textContent = document.querySelector('body > script').textContent;"
                      " document.body.appendChild(s); }")  # the explorer's script runs a second time
        page.select_option('select[name="finding"]', "Mass")
        calls = page.evaluate("""() => { let n = 0; const panel = document.querySelector(
            '.finding-explorer[data-finding="Mass"]'); const slider = panel.querySelector('input[name="threshold"]');
            slider.value = '0'; slider.dispatchEvent(new Event('input'));
            const output = panel.querySelector('[data-measure="threshold"]');
            new MutationObserver(records => { n += records.length; })
              .observe(output, {childList: true, characterData: true, subtree: true});
            panel.querySelector('button[name="validation-threshold"]').click();
            return new Promise(done => setTimeout(() => done(n), 50)); }""")
        assert calls == 1  # one listener: the output rewritten once
        assert page.evaluate(READING, "Mass")["threshold"] == THRESHOLDS[1]
        assert page.evaluate(READING, "Effusion")["threshold"] == THRESHOLDS[0]
    assert errors == []
