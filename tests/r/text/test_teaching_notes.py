"""The teaching notes beside the evaluation figures (R/text/teaching_notes.R): this split's counts,
PPV against prevalence, the calibration bin farthest from the diagonal, against counts done in the test."""


from operating_points import counts_at, r_vectors
from spanish import es_percent


def test_teaching_notes_quote_this_splits_counts(r_session):
    labels, probabilities = r_vectors(r_session)
    table = r_session["operating_point_table"](labels, probabilities, 0.65)
    note = r_session["threshold_note"](table, "neumotórax")[0]
    chosen = counts_at(0.65)  # 4 of 5 found, 1 false alarm among 7
    assert f"señala {chosen['tp']} de las 5" in note and "da 1 falsa alarma entre las 7" in note
    lower = counts_at(0.4)  # the most sensitive table row below 0.65: first reaches 90 % (and 95 %, shown once)
    assert (
        "Bajarlo a 0,400, el umbral más alto que detecta en test al menos el 90\u00a0%" in note
        and f"señalaría {lower['tp']} y daría {lower['fp']} falsas alarmas" in note
    )
    prevalence = r_session["prevalence_note"](table, 5 / 12, 0.02, "neumotórax")[0]
    sensitivity, specificity = 4 / 5, 6 / 7
    ppv_2 = 0.02 * sensitivity / (0.02 * sensitivity + 0.98 * (1 - specificity))
    assert (
        f"VPP es 80,0\u00a0% con la prevalencia del test (41,7\u00a0%) y caería a {es_percent(ppv_2)} donde solo el "
        "2,0\u00a0%"
        in prevalence
    )


def test_the_prevalence_note_says_ppv_rises_where_the_reference_is_above_the_tests(r_session):
    """A rare finding (Hernia's test share is under 1 %) meets the 2 % reference from below."""
    labels, probabilities = r_vectors(r_session)
    table = r_session["operating_point_table"](labels, probabilities, 0.65)
    note = r_session["prevalence_note"](table, 0.0086, 0.02, "hernia")[0]
    sensitivity, specificity = 4 / 5, 6 / 7
    ppv_2 = 0.02 * sensitivity / (0.02 * sensitivity + 0.98 * (1 - specificity))
    assert (
        f"(0,9\u00a0%) y subiría a {es_percent(ppv_2)} donde el 2,0\u00a0% de las radiografías tuviera hernia, más "
        "que en este test:"
        in note
    )
    assert "caería" not in note and "solo el" not in note


def test_calibration_note_reads_the_bin_farthest_from_the_diagonal(r_session):
    from rpy2 import robjects
    labels = robjects.FloatVector([0] * 6 + [1] * 4 + [0] * 5 + [1] * 5)
    probabilities = robjects.FloatVector([0.15] * 10 + [0.85] * 10)  # bin 0.1-0.2: 40 % observed; 0.8-0.9: 50 %
    bins = r_session["calibration_bins"](labels, probabilities)
    note = r_session["calibration_note"](bins, 0.2, 0.45, "neumotórax")[0]
    assert "de 10 radiografías con probabilidad media 0,85" in note and "el 50,0\u00a0%" in note
