"""The model learns: the report's CNN, trained as the report trains it, finds the sign on
phantoms, and finds nothing when the labels are permuted (a negative control).

Seeded; about 6 to 7 minutes on 2 cores. The thresholds:
- the demo's recorded labels are wrong for LABEL_NOISE (8 %) of the images, so even a perfect
  ranking of the truth scores about 0.92 against them (0.92^2 + 2 * 0.5 * 0.92 * 0.08); and
  weak signs are barely visible. A model that learnt the sign clears 0.80 against the recorded
  labels and 0.85 against the generator's truth (seed 11 gave 0.893 and 0.916 with the 8-64
  filter CNN, Adam 3e-4, batch 16; the uninformative band below ends at 0.70);
- the permuted band: with ~45 test images of each class, the AUROC of an uninformative score has
  a standard deviation of about 0.06, so a model that learnt nothing stays within 0.5 +- 0.2
  (more than 3 standard deviations)."""

import pytest
from sklearn.metrics import roc_auc_score

from conftest import run_r

pytestmark = pytest.mark.slow

N_PER_CLASS, IMAGE_SIZE, EPOCHS, SEED = 300, 128, 20, 11
PERMUTED_BAND = 0.2
LEARNT_VS_RECORDED, LEARNT_VS_TRUTH = 0.80, 0.85


@pytest.fixture(scope="module")
def learning(tmp_path_factory):
    work = tmp_path_factory.mktemp("learning")
    return run_r(f'learning_check({N_PER_CLASS}L, {IMAGE_SIZE}L, {EPOCHS}L, {SEED}L, "{work}")', timeout=1800)


def recomputed_auroc(run) -> float:
    assert len(run["test_labels"]) == len(run["test_probabilities"]) == run["test_images"]
    auroc = roc_auc_score(run["test_labels"], run["test_probabilities"])  # recomputed, not read back
    assert auroc == pytest.approx(run["test_auroc"])
    return auroc


def test_the_cnn_learns_the_sign_on_phantoms(learning):
    run = learning["recorded_labels"]
    assert run["test_images"] >= 80 and 0 < run["test_positives"] < run["test_images"]
    assert recomputed_auroc(run) >= LEARNT_VS_RECORDED, {k: v for k, v in run.items() if not k.startswith("test_")}


def test_the_cnn_finds_the_true_sign_where_labels_are_wrong(learning):
    run = learning["recorded_labels"]
    truth, recorded = run["test_true_labels"], run["test_labels"]
    assert 0 < sum(t != r for t, r in zip(truth, recorded)) < 0.2 * len(truth)  # some, not most, labels wrong
    auroc = roc_auc_score(truth, run["test_probabilities"])
    assert auroc == pytest.approx(run["test_auroc_vs_truth"])
    assert auroc >= LEARNT_VS_TRUTH


def test_permuted_labels_give_chance_performance(learning):
    run = learning["permuted_labels"]
    assert abs(recomputed_auroc(run) - 0.5) <= PERMUTED_BAND
    assert run["test_images"] == learning["recorded_labels"]["test_images"]  # the same images, labels permuted
