"""The report's sentences and tables built from the render's parameters and results (R/text/report.R,
R/display/tables.R): each branch a chunk can take, checked without rendering. The metrics table and the
conclusions' numbers are checked against independent computations in test_statistics.py."""

import json
import re

import numpy as np
import pytest
from sklearn.utils.class_weight import compute_class_weight

from conftest import ROOT


def r_text(r, expression):
    return json.loads(r(f"jsonlite::toJSON({expression}, auto_unbox = TRUE, digits = NA)")[0])


def params(**values):
    base = {"data": "demo", "data_dir": "data/demo", "n_per_class": 300, "seed": 42, "nih_archives": "1-2",
            "finding": "Pneumothorax", "match": "any"}
    base.update(values)
    return "list(" + ", ".join(f"{k} = {json.dumps(v)}" for k, v in base.items()) + ")"


def test_the_data_warning_names_each_source_and_the_demos_label_noise(r_session):
    demo = r_text(r_session, f"data_warning_text({params()}, 0.08)")
    assert demo.startswith("**Datos de demostración.**") and "cambia la clase de un 8\u00a0% de las imágenes" in demo
    assert "no dicen nada sobre el rendimiento clínico" in demo
    folder = r_text(r_session, f'data_warning_text({params(data="folder", data_dir="/x/mine")}, 0.08)')
    assert folder.startswith("**Datos propios.** Las imágenes proceden de las carpetas de clase de `/x/mine`.")


def test_the_class_weight_sentence_quotes_the_training_counts_and_their_weights(r_session):
    finding = 'finding_names("Pneumothorax")'
    balanced = r_text(r_session, f"class_weight_text(c(rep(0, 150), rep(1, 150)), {finding})")
    assert balanced.startswith("en este entrenamiento, 150 radiografías sin hallazgos y 150 con neumotórax dan pesos "
                               "de 1,00 y 1,00 (en todos los datos del NIH hay unas 11 sin hallazgos por cada una")
    # 1,960 and 100 images: each class's weight is n / (2 n_class), scikit-learn's "balanced" weights
    expected = compute_class_weight("balanced", classes=np.array([0, 1]), y=np.array([0] * 1960 + [1] * 100))
    imbalanced = r_text(r_session, f"class_weight_text(c(rep(0, 1960), rep(1, 100)), {finding})")
    decimal = [f"{w:.2f}".replace(".", ",") for w in expected]  # 0,53 and 10,30
    assert (
        f"1960 radiografías sin hallazgos y 100 con neumotórax dan pesos de {decimal[0]} y {decimal[1]}" in imbalanced
    )


ARCHIVE_RUNS = [("1-2", "1-2"), ("all", "1-12"), ("3,1,2,7", "1-3, 7"), ("5", "5"), ("1,3,5-6", "1, 3, 5-6")]


def test_the_archives_are_named_by_number_whatever_the_selections_form():
    """With data = nih the sentences name the archives in runs (Python's parser reads the selection: run_r)."""
    from conftest import run_r

    source = 'list(packaged = TRUE, metadata = "x", nih_sha1 = FALSE, test_list_packaged = TRUE)'
    calls = ", ".join(
        f'list(warning = data_warning_text({params(data="nih", nih_archives=selection)}, 0.08), '
        f'source = data_source_text({params(data="nih", nih_archives=selection)}, {source}))'
        for selection, _ in ARCHIVE_RUNS)
    texts = run_r(f"list({calls})")
    for (selection, shown), text in zip(ARCHIVE_RUNS, texts):
        assert text["warning"].startswith(f"**Datos reales del NIH (archivos {shown} de 12).**"), selection
        assert "8\u00a0%" not in text["warning"]
        assert f"archivos **{shown}** de la publicación" in text["source"], selection


def test_the_data_source_sentence_follows_the_source_and_the_match_rule(r_session):
    demo = r_text(r_session, f"data_source_text({params(n_per_class=24, seed=7)})")
    assert demo.startswith("En esta versión se usan **24 fantomas por clase** generados con la semilla 7.")
    from conftest import run_r

    source = 'list(packaged = TRUE, metadata = "x", nih_sha1 = FALSE, test_list_packaged = TRUE)'
    nih = run_r(f'list(any = data_source_text({params(data="nih", n_per_class=50)}, {source}), '
                f'exact = data_source_text({params(data="nih", match="exact")}, {source}))')  # Python reads archives
    nih_any, nih_exact = nih["any"], nih["exact"]
    assert (
        "archivos **1-2**" in nih_any
        and "*Pneumothorax* como clase positiva (entre las etiquetas de la imagen)" in nih_any
    )
    assert (
        "máximo 50 imágenes por clase; el test conserva todas las suyas. Los metadatos" in nih_any
    )  # one space, then the source
    assert "(como única etiqueta)" in nih_exact
    folder = r_text(
        r_session, f'data_source_text({params(data="folder", data_dir="d", finding="Edema", n_per_class=9)})'
    )
    assert folder.startswith("En esta versión se usan las imágenes de `d` (carpetas `Edema/` y `No-Finding/`)")
    assert "**9 por clase**" in folder


def test_the_data_summary_counts_images_and_patients_per_class(r_session):
    r_session('table <- data.frame(label = c(1, 1, 1, 0, 0), patient_id = c("a", "a", "b", "c", "d"))')
    assert r_text(r_session, 'data_summary_text(table, 0, "edema")') == (
        "En total se usan 3 imágenes de 2 pacientes con edema y 2 imágenes de 2 pacientes sin hallazgos.")
    assert r_text(r_session, 'data_summary_text(table, 4, "edema")').endswith(
        " Se han descartado 4 imágenes ilegibles (se registran en el log con su ruta).")


def test_the_model_description_quotes_the_cnns_filters(r_session):
    filters = r_text(r_session, "CNN_FILTERS")
    cnn = r_text(r_session, 'model_description_text("cnn", "edema")')
    assert f"({', '.join(map(str, filters[:-1]))} y {filters[-1]} filtros)" in cnn and "probabilidad de edema" in cnn
    assert (
        r_text(r_session, 'model_description_text("baseline", "edema")')
        == "la propia red densa del original, para estudiarla sola."
    )
    assert "una red **densenet121** de `keras.applications`" in r_text(
        r_session, 'model_description_text("densenet121", "x")'
    )


@pytest.mark.parametrize(
    "source, expected",
    [
        ("none", "**Pesos iniciales:** ninguno preentrenado (`weights=none`)"),
        (
            "random",
            "**Atención: esta red no usa pesos preentrenados.** Se pidieron los pesos `imagenet`, pero no pudieron "
            "cargarse (`offline`)",
        ),
        (
            "imagenet",
            "**Pesos iniciales:** los preentrenados en ImageNet que distribuye Keras, del archivo `w.h5` (SHA-256 "
            "`abc`).",
        ),
        ("file", "**Pesos iniciales:** los del archivo local `w.h5` (SHA-256 `abc`)."),
    ],
)
def test_the_initial_weights_say_what_was_loaded(r_session, source, expected):
    weights = (f'list(source = "{source}", requested = "imagenet", error = "offline", expected_file = "e.h5", '
               'cache_path = "~/.keras", file = "w.h5", sha256 = "abc")')
    assert expected in r_text(r_session, f"initial_weights_text({weights})")


def test_each_model_gets_one_training_line_with_its_evaluated_epoch(r_session):
    lines = r_text(
        r_session,
        """training_summary_lines(list(
      list(name = "cnn", parameters = 73889, seconds = 4.6, evaluated_epoch = 2L,
           history = data.frame(epoch = 1:3, val_auroc = c(0.5, 0.75, 0.6),
                                evaluated = c(FALSE, TRUE, FALSE)))), 15L)""",
    )
    assert (
        lines
        == "- `cnn`: 73\u00a0889 parámetros, 3 épocas (máximo 15) en 5 segundos; se evalúa la **época 2** (AUROC de "
           "validación 0,750).\n"
    )


def test_the_threshold_rule_reads_the_same_in_both_languages(r_session):
    assert r_text(r_session, 'threshold_rule_text("youden", 0.9)').startswith("el índice de Youden")
    assert (
        r_text(r_session, 'threshold_rule_text("sensitivity", 0.85)')
        == "el umbral más alto que alcanza una sensibilidad del 85\u00a0%"
    )
    assert r_text(r_session, 'threshold_rule_text("youden", 0.9, "en")') == "Youden index on the validation split"
    assert r_text(r_session, 'threshold_rule_text("sensitivity", 0.85, "en")') == (
        "highest threshold with sensitivity >= 0.85 on the validation split")


def test_the_bootstrap_text_says_how_many_replicates_lacked_a_class(r_session):
    b = ("list(images = 40L, patients = 31L, replicates = 2000L, seed = 7L, replicates_without_both_classes = {}, "
         "replicates_used = {})")
    complete = r_text(r_session, f"bootstrap_text({b.format(0, 2000)})")
    assert "(aquí, 40 imágenes de 31 pacientes)" in complete and "(2000 réplicas con la semilla 7," in complete
    assert complete.endswith("validación. Todas las réplicas contenían las dos clases.")
    partial = r_text(r_session, f"bootstrap_text({b.format(12, 1988)})")
    assert partial.endswith(
        "En 12 de las 2000 réplicas el remuestreo no contenía las dos clases; en ellas no se pueden "
        "calcular el AUROC, la sensibilidad ni la especificidad, así que los intervalos se basan en "
        "las 1988 réplicas restantes."
    )


def test_the_adjudicated_paragraph_quotes_the_agreement_or_says_how_to_get_it(r_session):
    agreement = (
        "list(images = 120L, expert_positives = 10L, nih_positives = 14L, label_agreement = 0.9, "
        "auroc_vs_expert = 0.81234, auroc_vs_nih = NA, sensitivity_vs_expert = 0.7, specificity_vs_expert = NA)"
    )
    text = r_text(r_session, f'adjudicated_text({agreement}, "Pneumothorax", "neumotórax")')
    assert (
        "cubren 120 imágenes de test de este informe: ven neumotórax en 10, frente a 14 según la etiqueta del NIH "
        "(acuerdo del 90\u00a0%)"
        in text
    )
    assert (
        "un AUROC de 0,812 (frente a – con la etiqueta del NIH), con sensibilidad 70,0\u00a0% y especificidad –" in text
    )
    hint = r_text(r_session, 'adjudicated_text(NULL, "Edema", "edema")')
    assert hint.startswith("Con el parámetro `adjudicated_labels`") and "`Edema`, como las de Majkowska" in hint


def test_the_shortcut_and_grad_cam_notes_follow_the_finding(r_session):
    assert "tubo de drenaje torácico" in r_text(r_session, "shortcut_text(TRUE)")
    assert r_text(r_session, "shortcut_text(FALSE)") == ""
    pleural = r_text(r_session, 'grad_cam_text(TRUE, "neumotórax", TRUE, "Figura 7")')
    assert "hacia «neumotórax»" in pleural and "La Figura 7 muestra" in pleural and "el borde pleural" in pleural
    assert "el propio hallazgo," in r_text(r_session, 'grad_cam_text(TRUE, "edema", FALSE, "@fig-gradcam")')
    assert r_text(r_session, 'grad_cam_text(FALSE, "edema", FALSE, "@fig-gradcam")').startswith(
        "Grad-CAM necesita una red convolucional")


def test_the_conclusions_warn_of_random_weights_and_of_phantoms(r_session):
    r_session("""m <- list(auroc = 0.8, auroc_ci95_patient_bootstrap = c(0.7, 0.9), auroc_ci95_delong = c(0.72, 0.88),
                           sensitivity = 0.75, specificity = 0.6, sensitivity_ci95_patient_bootstrap = c(NA, NA),
                           specificity_ci95_patient_bootstrap = c(0.5, 0.7),
                           patient_bootstrap = list(patients = 9L))""")
    r_session("base <- list(auroc = 0.55, auroc_ci95_patient_bootstrap = c(0.4, 0.7))")
    plain = r_text(
        r_session,
        'conclusions_text(list(metrics = m, evaluated_epoch = 3L, weights_loaded = list(source = "file")), base, '
        '12L, "mobilenetv2", FALSE)',
    )
    assert (
        "Con 12 imágenes de test de 9 pacientes" in plain
        and "sensibilidad del 75\u00a0% (IC 95\u00a0% por paciente: –)" in plain
    )
    assert "especificidad del 60\u00a0% (50,0\u00a0%–70,0\u00a0%)" in plain and plain.endswith(
        "AUROC de 0,550 (0,400–0,700 por paciente). "
    )
    warned = r_text(
        r_session,
        'conclusions_text(list(metrics = m, evaluated_epoch = 3L, weights_loaded = list(source = "random")), base, '
        '12L, "mobilenetv2", TRUE)',
    )
    assert "**La red `mobilenetv2` se entrenó sin los pesos preentrenados que se pidieron**" in warned
    assert warned.endswith("porque los fantomas son mucho más simples que una radiografía real.")


def test_training_constants_are_quoted_in_words(r_session):
    assert [r_text(r_session, f"spanish_count({n}L)") for n in (1, 6, 10, 12)] == ["una", "seis", "diez", "12"]
    assert r_text(r_session, "plateau_text(0.5)") == "se reduce a la mitad"
    assert r_text(r_session, "plateau_text(0.2)") == "se multiplica por 0,2"
    prose = (ROOT / "report.qmd").read_text()
    for constant in ("EARLY_STOPPING_WARMUP", "EARLY_STOPPING_PATIENCE", "PLATEAU_FACTOR", "INITIAL_LEARNING_RATE"):
        assert re.search(rf"`r [^`]*\b{constant}\b[^`]*`", prose), constant  # quoted by inline R, not retyped


def test_r_and_python_name_the_negative_class_alike(r_session):
    from chestxray import NEGATIVE_CLASS
    assert r_text(r_session, "NEGATIVE_CLASS") == NEGATIVE_CLASS == "No Finding"


def test_split_counts_come_in_the_splits_order_with_spanish_names(r_session):
    r_session("""counts <- data.frame(split = c("test", "train", "validation", "train"),
                                      class_name = c("A", "B", "A", "A"),
                                      images = c(3L, 5L, 2L, 6L), patients = c(3L, 4L, 2L, 5L))""")
    table = r_text(r_session, "as.character(split_counts_kable(counts, list(images_with_unknown_patient = 0)))")
    rows = [line for line in table if line.startswith("|")][2:]
    assert [row.split("|")[1].strip() for row in rows] == ["entrenamiento", "entrenamiento", "validación", "test"]
    assert [row.split("|")[2].strip() for row in rows] == ["A", "B", "A", "A"]
    names = r_text(r_session, "names(SPLIT_NAMES_ES)")
    from chestxray.preparation.split import SPLITS
    assert tuple(names) == SPLITS
    unknown = r_text(r_session, "as.character(split_counts_kable(counts, list(images_with_unknown_patient = 2)))")
    assert "Ningún paciente conocido aparece en dos partes." in " ".join(unknown)


def test_subgroups_table_shows_missing_values_as_dashes_or_nothing_without_subgroups(r_session):
    r_session("""sg <- data.frame(variable = "proyección", group = c("AP", "PA"), images = c(10L, 12L),
                                  positives = c(0L, 4L),
                                  auroc = c(NA, 0.75), ci_low = c(NA, 0.5), ci_high = c(NA, 1))""")
    rows = [line for line in r_text(r_session, 'as.character(subgroups_kable(sg, "edema"))') if line.startswith("|")]
    assert (
        "Con edema" in rows[0]
        and rows[2].split("|")[5].strip() == "–"
        and rows[3].split("|")[6].strip() == "0,500–1,000"
    )
    assert r_text(r_session, 'is.null(subgroups_kable(NULL, "edema"))') is True


def test_sections_that_depend_on_the_run_say_nothing_where_they_do_not_apply(r_session):
    weights = 'list(source = "none")'
    assert r_text(r_session, f'initial_weights_section("cnn", {weights})') == ""
    assert "ninguno preentrenado" in r_text(r_session, f'initial_weights_section("densenet121", {weights})')
    assert r_text(r_session, "no_subgroups_text(NULL)").startswith("Estos datos no traen proyección, sexo ni edad")
    assert r_text(r_session, "no_subgroups_text(data.frame(variable = 'sex'))") == ""
    assert r_session("is.null(test_subgroups(data.frame(label = c(0, 1)), c(0.2, 0.8)))")[0]
    assert r_text(r_session, "nrow(test_subgroups(data.frame(label = c(0, 1, 0, 1), patient_sex = c('F', 'F', 'M', "
                             "'M')), c(0.2, 0.8, 0.3, 0.7)))") == 2
