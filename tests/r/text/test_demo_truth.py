"""The demo's known truth in the report: AUROC against the noisy recorded labels and
against the generator's truth, side by side, from adjudicated_agreement."""

import pandas as pd
from sklearn.metrics import roc_auc_score

from spanish import es_number


def test_demo_truth_paragraph_gives_both_aurocs_computed_independently(r_session, tmp_path):
    from rpy2 import robjects

    images = [f"{i:08d}_000.png" for i in range(1, 11)]
    recorded = [1, 1, 1, 1, 1, 0, 0, 0, 0, 0]
    truth = [1, 1, 1, 1, 0, 0, 0, 0, 0, 1]  # two recorded labels are wrong
    scores = [0.9, 0.8, 0.7, 0.6, 0.2, 0.3, 0.1, 0.5, 0.4, 0.65]
    truth_csv = tmp_path / "truth.csv"
    pd.DataFrame({"Image Index": images, "Pneumothorax": ["YES" if t else "NO" for t in truth]}).to_csv(
        truth_csv, index=False
    )
    table = robjects.DataFrame({"image": robjects.StrVector(images), "label": robjects.IntVector(recorded)})
    agreement = r_session["adjudicated_agreement"](table, robjects.FloatVector(scores), 0.5,
                                                   r_session["read_adjudicated_labels"](str(truth_csv), "Pneumothorax"))
    text = r_session["demo_truth_text"](agreement, 0.08)[0]
    assert (f"AUROC de {es_number(roc_auc_score(recorded, scores), 3)} frente a ellas y de "
            f"{es_number(roc_auc_score(truth, scores), 3)} frente a la verdad") in text
    assert "un 8\u00a0% de ellas" in text and "En las 10 imágenes de test" in text and "en el 80,0\u00a0%" in text
