"""Mutation testing for the explorer's JavaScript (assets/explorer.js), as mutate_r.py does R's.

A declared list of realistic edits to assets/explorer.js, each applied alone to a temporary
copy of the project (never to the working tree); then the explorer's browser tests
(tests/r/display/test_explorer_browser.py: real headless Chromium, every state held to R) run on the
copy; a failing test kills the mutant. The machinery (copy, stale-edit check, runs, table,
CSV) is mutate_r.py's.

    nice -n 10 .venv/bin/python scripts/mutate_js.py          # all mutants, table + CSV
    .venv/bin/python scripts/mutate_js.py --check             # only check every edit still applies
    nice -n 10 .venv/bin/python scripts/mutate_js.py --only J0   # ids containing this text

An edit whose old text is not found exactly once in explorer.js stops the script before
anything runs: when the script changes, update the edit (or drop it). Mutants marked
`equivalent` (a reason given) are not run. Results go to bench/results/mutation_js.csv.
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import mutate_r  # noqa: E402  (scripts/ is not a package)
from mutate_r import ROOT, Mutant, role_tests  # noqa: E402

DEFAULT_CSV = ROOT / "bench" / "results" / "mutation_js.csv"
JS = "assets/explorer.js"
# The explorer is R/display/explorer.R's page: its tests are the display role's (tests/r/display/, fast tier;
# the render test also drives it, but is slow).
TESTS_BY_FILE = {JS: role_tests("R/display/explorer.R")}

# Only ever written for thresholds (probabilities), counts and shares: none is below 0.
NO_NEGATIVES = "every number the explorer writes (counts, shares, probabilities) is >= 0: the sign is never written"
CLOSEST = ("explorer_html always adds the validation threshold to the thresholds (threshold_counts' `also`), so "
           "the closest one is at distance 0 and no other ties it: the thresholds are distinct in the page's JSON "
           "unless two probabilities agree to jsonlite's 15 significant digits, which float32 probabilities never do")

MUTANTS = [
    # arithmetic: counts, shares, Bayes' rule
    Mutant("J01", JS, "var tp = data.tp[i], fp = data.fp[i];", "var tp = data.fp[i], fp = data.tp[i];",
           "true and false positives swapped"),
    Mutant("J02", JS, "var fn = data.positives - tp, tn = data.negatives - fp;",
           "var fn = data.negatives - fp, tn = data.positives - tp;", "false and true negatives from the wrong totals"),
    Mutant("J03", JS, "var sensitivity = share(tp, fn), specificity = share(tn, fp);",
           "var sensitivity = share(tn, fp), specificity = share(tp, fn);", "sensitivity and specificity swapped"),
    Mutant("J04", JS, """'input[name="prevalence"]').value) / 1000;""", """'input[name="prevalence"]').value) / 100;""",
           "prevalence slider read as percent, not per mille"),
    Mutant("J05", JS, "share(sensitivity * prevalence, (1 - specificity) * (1 - prevalence))",
           "share(sensitivity * (1 - prevalence), (1 - specificity) * prevalence)",
           "PPV at the prevalence: prevalence and 1 - prevalence swapped"),
    Mutant("J06", JS, "share(specificity * (1 - prevalence), (1 - sensitivity) * prevalence)",
           "share(specificity * (1 - prevalence), (1 - specificity) * prevalence)",
           "NPV at the prevalence: missed share from the specificity"),
    Mutant("J07", JS, 'setOutput(root, "ppv", share(tp, fp));', 'setOutput(root, "ppv", share(tp, fn));',
           "PPV in test computed as sensitivity"),
    Mutant("J08", JS, 'return a + b > 0 ? a / (a + b) : NaN;', 'return a + b > 0 ? a / (a + b) : 0;',
           "a share of nothing is 0, not missing"),
    # per 1,000
    Mutant("J09", JS, "return esNumber(1000 * x, 0);", "return esNumber(Math.floor(1000 * x), 0);",
           "per-1,000 figures truncated, not rounded"),
    Mutant("J10", JS, 'setOutput(root, "false_alarms_per_1000", (1 - specificity) * (1 - prevalence),',
           'setOutput(root, "false_alarms_per_1000", (1 - specificity) * prevalence,',
           "false alarms per 1,000 scaled by the prevalence (data-value)"),
    Mutant("J11", JS,
           'setOutput(root, "missed_per_1000", (1 - sensitivity) * prevalence, '
           'per1000((1 - sensitivity) * prevalence));',
           'setOutput(root, "missed_per_1000", (1 - sensitivity) * prevalence, per1000(sensitivity * prevalence));',
           "missed per 1,000 written as found"),
    # the sliders and buttons
    Mutant("J12", JS, "var i = data.thresholds.length - 1 - Number(", "var i = data.thresholds.length - 2 - Number(",
           "slider position off by one"),
    Mutant("J13", JS,
           "var i = data.thresholds.length - 1 - Number(root.querySelector('input[name=\"threshold\"]').value);",
           "var i = Number(root.querySelector('input[name=\"threshold\"]').value);",
           "slider runs from the highest threshold"),
    Mutant("J14", JS, "if (Math.abs(thresholds[i] - value) < Math.abs(thresholds[best] - value)) best = i;",
           "if (Math.abs(thresholds[i] - value) <= Math.abs(thresholds[best] - value)) best = i;",
           "closest threshold: strict becomes non-strict", CLOSEST),
    Mutant("J15", JS, "for (var i = 1; i < thresholds.length; i++) {\n      if (Math.abs",
           "for (var i = 1; i < thresholds.length - 1; i++) {\n      if (Math.abs",
           "closest threshold never the lowest"),
    Mutant("J16", JS, "Math.round(1000 * data.positives / (data.positives + data.negatives))",
           "Math.round(1000 * data.positives / data.negatives)", "test prevalence as the odds"),
    Mutant("J17", JS, "threshold.value = validationPosition;\n      update(root, data);",
           "threshold.value = String(validationIndex);\n      update(root, data);",
           "back-to-validation button uses the unreversed index"),
    # the ROC figure
    Mutant("J18", JS, 'point.setAttribute("cx", (100 * (1 - specificity)).toFixed(2));\n'
                      '    point.setAttribute("cy", (100 - 100 * sensitivity).toFixed(2));',
           'point.setAttribute("cx", (100 - 100 * sensitivity).toFixed(2));\n'
           '    point.setAttribute("cy", (100 * (1 - specificity)).toFixed(2));', "ROC point: x and y swapped"),
    Mutant("J19", JS, "var x = 100 * data.fp[i] / data.negatives, y = 100 - 100 * data.tp[i] / data.positives;",
           "var x = 100 * data.tp[i] / data.positives, y = 100 - 100 * data.fp[i] / data.negatives;",
           "ROC curve: x and y swapped"),
    # typography (R/text/numbers.R)
    Mutant("J20", JS, '(parts.length > 1 ? "," + parts[1] : "")', '(parts.length > 1 ? "." + parts[1] : "")',
           "decimal point instead of comma"),
    Mutant("J21", JS, "parts[0].length > 4 ?", "parts[0].length > 3 ?", "four-digit numbers grouped (2 024)"),
    Mutant("J22", JS, 'var NBSP = "\\u00a0"', 'var NBSP = " "', "breaking space instead of non-breaking"),
    Mutant("J23", JS, 'return isFinite(x) ? esNumber(100 * x, 1) + NBSP + "%" : MISSING;',
           'return isFinite(x) ? esNumber(100 * x, 1) + "%" : MISSING;', "no space before %"),
    Mutant("J24", JS, "esNumber(100 * x, 1)", "esNumber(100 * x, 2)", "percentages with two decimals"),
    Mutant("J25", JS, "return halfway && Number(kept.slice(-1)) % 2 === 0 ? kept : shown;", "return shown;",
           "exact halves rounded up (toFixed), not to even (R's formatC)"),
    Mutant("J26", JS, "% 2 === 0 ? kept : shown", "% 2 === 1 ? kept : shown", "exact halves rounded to odd"),
    Mutant("J27", JS, "if (!isFinite(x)) return MISSING;", "if (!isFinite(x)) return \"\";",
           "a missing value written as nothing, not a dash"),
    Mutant("J28", JS, 'node.setAttribute("data-value", isFinite(value) ? String(value) : "");',
           'node.setAttribute("data-value", String(value));', "a missing value's data-value is NaN"),
    Mutant("J29", JS, "for (var digits = 3; digits < 8; digits++) {", "for (var digits = 2; digits < 8; digits++) {",
           "thresholds from two decimals"),
    Mutant("J30", JS, "if (!before && !after) return shown;", "if (!before) return shown;",
           "threshold told apart from the one before only"),
    Mutant("J31", JS, 'var sign = x < 0 && /[1-9]/.test(parts.join("")) ? "-" : "";', 'var sign = "";',
           "the minus sign dropped", NO_NEGATIVES),
    # the multi-label study's explorers: each started once, the selector showing the chosen finding's
    Mutant("J32", JS, 'document.querySelectorAll(".operating-point-explorer:not([data-started])")',
           'document.querySelectorAll(".operating-point-explorer")', "an explorer started again by a later script"),
    Mutant("J33", JS, 'panels[j].hidden = panels[j].getAttribute("data-finding") !== finding;',
           'panels[j].hidden = panels[j].getAttribute("data-finding") === finding;', "the chosen finding hidden"),
    Mutant("J34", JS, "return function () { showFinding(box, menu.value); };", "return function () {};",
           "the selector changes nothing"),
    Mutant("J35", JS, 'roots[i].setAttribute("data-started", "true");', "", "a started explorer not marked"),
]


def main(argv: list[str] | None = None) -> int:
    return mutate_r.main(argv, MUTANTS, TESTS_BY_FILE, DEFAULT_CSV, "mutate_js", __doc__)


if __name__ == "__main__":
    sys.exit(main())
