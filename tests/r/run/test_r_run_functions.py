"""The render's own R functions (R/run/: parameters, figure numbering), run in embedded R through rpy2."""

import json

import pytest
from rpy2.rinterface_lib.embedded import RRuntimeError


def r_json(r, expression):
    return json.loads(r(f"jsonlite::toJSON({expression}, auto_unbox = TRUE, digits = NA)")[0])


def test_params_are_typed_and_checked(r_session):
    r_session('defaults <- rmarkdown::yaml_front_matter("report.qmd")$params')
    checked = r_json(r_session, """check_params(modifyList(defaults, list(n_per_class = "40", epochs = "3",
        nih_archives = "1,3-4", target_sensitivity = "0.95")))""")
    assert checked["n_per_class"] == 40 and checked["epochs"] == 3 and checked["nih_base_url"] == ""
    assert checked["target_sensitivity"] == 0.95 and checked["model"] == "cnn"
    with pytest.raises(RRuntimeError, match="missing parameter.*nih_dir"):
        r_session(
            'check_params(list(data = "demo", data_dir = "d", n_per_class = 40, image_size = 64, epochs = 3, '
            'batch_size = 8, seed = 1))'
        )
    with pytest.raises(RRuntimeError, match="parameter 'data' is 'web' but must be one of: demo, folder, nih"):
        r_session('check_param("data", "web")')
    with pytest.raises(RRuntimeError, match="'nih_archives' is '' but must be 'all' or numbers from 1 to 12"):
        r_session('check_param("nih_archives", "")')
    with pytest.raises(RRuntimeError, match="'image_size' is '12.5' but must be an integer from 32 to 512"):
        r_session('check_param("image_size", "12.5")')
    with pytest.raises(RRuntimeError, match="unknown parameter 'epoch'; known parameters: data, data_dir"):
        r_session('check_param("epoch", 3)')


def test_figure_numbering_for_the_fallback(r_session):
    lines = r_session.c(
        "See @fig-a and @fig-b.", "```{r}", "#| label: fig-a", '#| fig-cap: "First."', "```",
        "```{r}", "#| label: other", "```", "```{r}", "#| label: fig-b", '#| fig-cap: "Second."', "```",
    )
    r_session.assign("lines", lines)
    html = list(r_session("number_figures(lines, TRUE)"))
    assert html[0] == "See Figura\u00a01 and Figura\u00a02."
    assert '#| fig-cap: "Figura\u00a01: First."' in html and '#| fig-cap: "Figura\u00a02: Second."' in html
    assert '#| fig-cap: "First."' in list(r_session("number_figures(lines, FALSE)"))
    r_session.assign("broken", r_session.c("see @fig-missing"))
    with pytest.raises(RRuntimeError, match="unresolved figure reference"):
        r_session("number_figures(broken, TRUE)")
