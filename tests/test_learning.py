"""The model learns: the report's CNN, trained as the report trains it, finds the sign on
phantoms, and finds nothing when the labels are permuted (a negative control).

Seeded; about 5 minutes on 2 cores. The permuted band: with ~50 test images of each class,
the AUROC of an uninformative score has a standard deviation of about 0.06, so a model that
learnt nothing stays within 0.5 +- 0.2 (more than 3 standard deviations)."""

import pytest
from sklearn.metrics import roc_auc_score

from conftest import run_r

pytestmark = pytest.mark.slow

N_PER_CLASS, IMAGE_SIZE, EPOCHS, SEED = 300, 128, 20, 11
PERMUTED_BAND = 0.2


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
    run = learning["true_labels"]
    assert run["test_images"] >= 80 and 0 < run["test_positives"] < run["test_images"]
    assert recomputed_auroc(run) >= 0.9, {k: v for k, v in run.items() if not k.startswith("test_")}


def test_permuted_labels_give_chance_performance(learning):
    run = learning["permuted_labels"]
    assert abs(recomputed_auroc(run) - 0.5) <= PERMUTED_BAND
    assert run["test_images"] == learning["true_labels"]["test_images"]  # the same images, labels permuted
