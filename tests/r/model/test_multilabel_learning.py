"""The multi-label CNN learns: trained as a finding=all render trains it (train_and_predict, CheXNet's loss,
the evaluated epoch on the mean validation AUROC), on the five-finding demo it finds the large signs, finds
them better against the generator's truth than against the recorded (8 % wrong) labels, and finds nothing
when whole label rows are permuted within each part (a negative control).

Seeded; about 2 to 3 minutes on 2 cores. The thresholds, from seed 42 at 64 px, 1,200 films, 15 epochs
(2026-12-07): effusion 0.90 and cardiomegaly 0.85 (patient-bootstrap lower bounds 0.85 and 0.68), pneumothorax
0.70, mass 0.55, nodule 0.46 (a nodule is a few pixels at 64 px), mean 0.69 with its lower bound 0.64. A model
that learnt effusion clears 0.75 on its 40-odd test positives; an uninformative score's mean AUROC over five
findings with 10-50 test positives each has a standard deviation of about 0.04, so 0.5 +- 0.12 is 3 of them."""

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import roc_auc_score

from conftest import run_r

pytestmark = pytest.mark.slow

FILMS, IMAGE_SIZE, EPOCHS, SEED = 1200, 64, 15, 42
LEARNT = {"Effusion": 0.75, "Cardiomegaly": 0.70}
LEARNT_MEAN = 0.60
PERMUTED_BAND = 0.12


@pytest.fixture(scope="module")
def learning(tmp_path_factory):
    work = tmp_path_factory.mktemp("multilabel-learning")
    return run_r(f"""
      ml <- import_chestxray("preparation.multilabel")
      prepared <- ml$prepare_multilabel("demo", "{work}/demo", {FILMS}L, {IMAGE_SIZE}L, {SEED}L,
                                        cache_dir = "{work}/cache", max_images = {FILMS}L)
      p <- list(seed = {SEED}L, weights = "none", on_missing_weights = "stop", epochs = {EPOCHS}L, batch_size = 16L)
      run <- function(data, folder) {{
        trained <- train_and_predict("cnn", data, p, folder)
        list(probabilities = trained$test_probabilities, labels = data$labels("test"),
             findings = colnames(trained$test_probabilities))
      }}
      list(recorded = run(prepared, "{work}/recorded"),
           permuted = run(prepared$with_permuted_labels({SEED}L), "{work}/permuted"),
           images = prepared$part("test")$image, truth = "{work}/demo/truth.csv")
    """, timeout=1800)


def aurocs(run, labels=None):
    labels = np.array(run["labels"] if labels is None else labels)
    scores = np.array(run["probabilities"])
    return {finding: roc_auc_score(labels[:, k], scores[:, k]) for k, finding in enumerate(run["findings"])}


def test_the_multilabel_cnn_learns_the_large_signs(learning):
    found = aurocs(learning["recorded"])
    for finding, floor in LEARNT.items():
        assert found[finding] >= floor, found
    assert np.mean(list(found.values())) >= LEARNT_MEAN, found


def test_it_finds_the_true_signs_better_than_the_recorded_labels_say(learning):
    truth = pd.read_csv(learning["truth"]).set_index("Image Index").loc[learning["images"]]
    findings = learning["recorded"]["findings"]
    true_labels = (truth[findings] == "YES").astype(int).to_numpy()
    recorded = np.array(learning["recorded"]["labels"])
    assert 0 < (true_labels != recorded).any(axis=1).mean() < 0.2  # some films carry a wrong label, not most
    against_truth, against_recorded = aurocs(learning["recorded"], true_labels), aurocs(learning["recorded"])
    assert np.mean(list(against_truth.values())) > np.mean(list(against_recorded.values()))


def test_permuted_label_rows_give_chance_performance(learning):
    found = aurocs(learning["permuted"])
    assert abs(np.mean(list(found.values())) - 0.5) <= PERMUTED_BAND, found
    assert np.array(learning["permuted"]["labels"]).sum(axis=0).tolist() == \
        np.array(learning["recorded"]["labels"]).sum(axis=0).tolist()  # the same prevalences, rows moved
