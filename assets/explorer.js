// The report's operating-point explorer: two sliders (threshold, prevalence of the
// population where the model would be used) over the test split's confusion counts
// at every distinct threshold, computed in R (R/evaluate/operating_point.R) and embedded as
// JSON. Nothing is fetched; every number shown carries its value in data-value.
(function () {
  "use strict";

  // Numbers as R/text/numbers.R writes them (es_number, es_percent), held to R in
  // tests/test_explorer_browser.py: a decimal comma; the whole part grouped in threes by a
  // non-breaking space only beyond four digits (2024, 60 361); a non-breaking space before
  // %; a dash for a missing value. Only the text: data-value keeps the machine number.
  var NBSP = "\u00a0", MISSING = "–";

  // |x| with `digits` decimals (dot), rounded as C's printf (R's formatC): a value exactly
  // halfway goes to the even digit (6.25 -> 6.2), where toFixed would go up.
  function fixed(x, digits) {
    var shown = x.toFixed(digits), exact = x.toFixed(100);
    var cut = exact.indexOf(".") + (digits > 0 ? digits + 1 : 0);
    var halfway = /^\.?50*$/.test(exact.slice(cut));
    var kept = exact.slice(0, cut);
    return halfway && Number(kept.slice(-1)) % 2 === 0 ? kept : shown;
  }

  function esNumber(x, digits) {
    if (!isFinite(x)) return MISSING;
    var parts = fixed(Math.abs(x), digits).split(".");
    var whole = parts[0].length > 4 ? parts[0].replace(/\B(?=(\d{3})+$)/g, NBSP) : parts[0];
    var sign = x < 0 && /[1-9]/.test(parts.join("")) ? "-" : "";  // never "-0,0"
    return sign + whole + (parts.length > 1 ? "," + parts[1] : "");
  }

  function percent(x) {
    return isFinite(x) ? esNumber(100 * x, 1) + NBSP + "%" : MISSING;
  }

  function share(a, b) {
    return a + b > 0 ? a / (a + b) : NaN;
  }

  function setOutput(root, name, value, text) {
    var node = root.querySelector('[data-measure="' + name + '"]');
    node.setAttribute("data-value", isFinite(value) ? String(value) : "");
    node.textContent = text === undefined ? percent(value) : text;
  }

  // As many decimals (3 to 8) as it takes to tell a threshold from its neighbours:
  // the demo's probabilities crowd near 0 and 1.
  function thresholdText(thresholds, i) {
    for (var digits = 3; digits < 8; digits++) {
      var shown = esNumber(thresholds[i], digits);
      var before = i > 0 && esNumber(thresholds[i - 1], digits) === shown;
      var after = i < thresholds.length - 1 && esNumber(thresholds[i + 1], digits) === shown;
      if (!before && !after) return shown;
    }
    return esNumber(thresholds[i], 8);
  }

  function closestIndex(thresholds, value) {
    var best = 0;
    for (var i = 1; i < thresholds.length; i++) {
      if (Math.abs(thresholds[i] - value) < Math.abs(thresholds[best] - value)) best = i;
    }
    return best;
  }

  function drawCurve(root, data) {
    var svg = root.querySelector("svg.explorer-roc");
    var points = ["0,100"];
    for (var i = 0; i < data.thresholds.length; i++) {
      var x = 100 * data.fp[i] / data.negatives, y = 100 - 100 * data.tp[i] / data.positives;
      points.push(x.toFixed(2) + "," + y.toFixed(2));
    }
    svg.querySelector(".explorer-curve").setAttribute("points", points.join(" "));
  }

  function update(root, data) {
    // The slider runs from the lowest threshold (left) to the highest (right).
    var i = data.thresholds.length - 1 - Number(root.querySelector('input[name="threshold"]').value);
    var prevalence = Number(root.querySelector('input[name="prevalence"]').value) / 1000;
    var tp = data.tp[i], fp = data.fp[i];
    var fn = data.positives - tp, tn = data.negatives - fp;
    var sensitivity = share(tp, fn), specificity = share(tn, fp);
    var ppvElsewhere = share(sensitivity * prevalence, (1 - specificity) * (1 - prevalence));
    var npvElsewhere = share(specificity * (1 - prevalence), (1 - sensitivity) * prevalence);
    setOutput(root, "threshold", data.thresholds[i], thresholdText(data.thresholds, i));
    setOutput(root, "prevalence", prevalence, percent(prevalence));
    setOutput(root, "tp", tp, esNumber(tp, 0));
    setOutput(root, "fp", fp, esNumber(fp, 0));
    setOutput(root, "fn", fn, esNumber(fn, 0));
    setOutput(root, "tn", tn, esNumber(tn, 0));
    setOutput(root, "sensitivity", sensitivity);
    setOutput(root, "specificity", specificity);
    setOutput(root, "ppv", share(tp, fp));
    setOutput(root, "npv", share(tn, fn));
    setOutput(root, "ppv_at_prevalence", ppvElsewhere);
    setOutput(root, "npv_at_prevalence", npvElsewhere);
    var per1000 = function (x) { return esNumber(1000 * x, 0); };
    setOutput(root, "found_per_1000", sensitivity * prevalence, per1000(sensitivity * prevalence));
    setOutput(root, "missed_per_1000", (1 - sensitivity) * prevalence, per1000((1 - sensitivity) * prevalence));
    setOutput(root, "false_alarms_per_1000", (1 - specificity) * (1 - prevalence),
              per1000((1 - specificity) * (1 - prevalence)));
    var point = root.querySelector(".explorer-point");
    point.setAttribute("cx", (100 * (1 - specificity)).toFixed(2));
    point.setAttribute("cy", (100 - 100 * sensitivity).toFixed(2));
  }

  function start(root) {
    var data = JSON.parse(root.querySelector('script[type="application/json"]').textContent);
    var threshold = root.querySelector('input[name="threshold"]');
    var prevalence = root.querySelector('input[name="prevalence"]');
    var validationIndex = closestIndex(data.thresholds, data.validation_threshold);
    var testPrevalence = Math.round(1000 * data.positives / (data.positives + data.negatives));
    threshold.max = String(data.thresholds.length - 1);
    var validationPosition = String(data.thresholds.length - 1 - validationIndex);
    threshold.value = validationPosition;
    prevalence.value = String(testPrevalence);
    threshold.addEventListener("input", function () { update(root, data); });
    prevalence.addEventListener("input", function () { update(root, data); });
    root.querySelector('button[name="validation-threshold"]').addEventListener("click", function () {
      threshold.value = validationPosition;
      update(root, data);
    });
    root.querySelector('button[name="test-prevalence"]').addEventListener("click", function () {
      prevalence.value = String(testPrevalence);
      update(root, data);
    });
    drawCurve(root, data);
    update(root, data);
  }

  // Each explorer starts once, whichever script on the page runs first.
  var roots = document.querySelectorAll(".operating-point-explorer:not([data-started])");
  for (var i = 0; i < roots.length; i++) {
    roots[i].setAttribute("data-started", "true");
    start(roots[i]);
  }

  // The multi-label study's selector shows the chosen finding's explorer only.
  function showFinding(group, finding) {
    var panels = group.querySelectorAll(".finding-explorer");
    for (var j = 0; j < panels.length; j++) panels[j].hidden = panels[j].getAttribute("data-finding") !== finding;
  }
  var groups = document.querySelectorAll(".finding-explorers:not([data-started])");
  for (var g = 0; g < groups.length; g++) {
    var group = groups[g];
    group.setAttribute("data-started", "true");
    var select = group.querySelector('select[name="finding"]');
    select.addEventListener("change", (function (box, menu) {
      return function () { showFinding(box, menu.value); };
    })(group, select));
  }
})();
