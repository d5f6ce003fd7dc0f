"""Patient-level (cluster) bootstrap intervals (R/evaluate/metrics.R), checked against
scikit-learn, an independent numpy bootstrap, and the same statistics recomputed
with numpy on base R's draws of patients (which must give the published numbers exactly)."""

import json

import numpy as np
import pytest
from sklearn.metrics import roc_auc_score


def r_json(r, expression):
    return json.loads(r(f"jsonlite::toJSON({expression}, auto_unbox = TRUE, digits = NA)")[0])


def assign(r, **values):
    for name, value in values.items():
        r.assign(name, r.c(*np.asarray(value).tolist()))


def bootstrap(r, labels, scores, patients, threshold=0.5, replicates=2000, seed=42):
    assign(r, labels=labels, scores=scores, patients=patients)
    return r_json(r, f"patient_bootstrap(labels, scores, patients, {threshold}, {replicates}L, {seed}L)")


def intervals_over_draws(labels, scores, patients, threshold, draws):
    """Percentile intervals over replicates given as rows of drawn patient numbers
    (1-based, patients in sorted order). Each replicate weighs every image by how
    often its patient was drawn; its AUROC is the share of (positive, negative)
    pairs ranked right, ties counting one half. Replicates lacking a class are left out."""
    labels, scores, patients = np.asarray(labels), np.asarray(scores, dtype=float), np.asarray(patients)
    members = np.array([patients == p for p in sorted(set(patients.tolist()))], dtype=float)  # patient x image
    weights = np.array([np.bincount(draw - 1, minlength=len(members)) for draw in draws]) @ members  # replicate x image
    positive, predicted = labels == 1, scores >= threshold
    pairs = (scores[:, None] > scores[None, :]) + 0.5 * (scores[:, None] == scores[None, :])
    w_pos, w_neg = weights * positive, weights * ~positive
    n_pos, n_neg = w_pos.sum(axis=1), w_neg.sum(axis=1)
    used = (n_pos > 0) & (n_neg > 0)
    with np.errstate(invalid="ignore", divide="ignore"):
        estimates = np.column_stack([
            np.einsum("ri,ij,rj->r", w_pos, pairs, w_neg) / (n_pos * n_neg),
            (w_pos * predicted).sum(axis=1) / n_pos,
            (w_neg * ~predicted).sum(axis=1) / n_neg,
        ])[used]
    ends = np.quantile(estimates, [0.025, 0.975], axis=0)  # numpy's default is R's type 7
    return {"auroc": ends[:, 0], "sensitivity": ends[:, 1], "specificity": ends[:, 2], "used": int(used.sum())}


def numpy_patient_bootstrap(labels, scores, patients, threshold, replicates, seed):
    """The same method with numpy's own generator drawing the patients."""
    count = len(set(np.asarray(patients).tolist()))
    draws = np.random.default_rng(seed).integers(1, count + 1, (replicates, count))
    return intervals_over_draws(labels, scores, patients, threshold, draws)


def r_draws(r, patients, replicates, seed):
    """Base R's own draws for this seed: `replicates` samples of `patients` patient
    numbers with replacement, one row each (the resampling, not the statistics)."""
    return np.array(r_json(r, f"local({{ set.seed({seed}); t(vapply(seq_len({replicates}), function(i) "
                              f"sample.int({patients}, {patients}, replace = TRUE), integer({patients}))) }})"))


def replayed_patient_bootstrap(r, labels, scores, patients, threshold, replicates, seed):
    """The patient bootstrap recomputed on R's draws of patients: exactly the published intervals."""
    count = len(set(np.asarray(patients).tolist()))
    return intervals_over_draws(labels, scores, patients, threshold, r_draws(r, count, replicates, seed))


def clustered_data(patients=60, films=4, seed=0):
    """Patients with several correlated films: a patient effect shared by all
    their images, plus a little noise per image."""
    rng = np.random.default_rng(seed)
    patient_label = rng.integers(0, 2, patients)
    patient_effect = rng.normal(0, 0.25, patients)
    ids = np.repeat(np.arange(patients), films)
    labels = patient_label[ids]
    scores = np.clip(0.35 + 0.25 * labels + patient_effect[ids] + rng.normal(0, 0.03, ids.size), 0, 1)
    return labels, scores, ids


def width(interval):
    return interval[1] - interval[0]


def test_rank_auroc_is_scikit_learns_auroc_with_ties(r_session):
    rng = np.random.default_rng(1)
    labels = rng.integers(0, 2, 150)
    scores = np.round(np.clip(labels * 0.2 + rng.normal(0.4, 0.2, 150), 0, 1), 1)  # many ties
    assign(r_session, labels=labels, scores=scores)
    assert r_session("rank_auroc(labels, scores)")[0] == pytest.approx(roc_auc_score(labels, scores), abs=1e-12)


def test_intervals_contain_the_estimates_and_agree_with_numpy(r_session):
    labels, scores, patients = clustered_data()
    out = bootstrap(r_session, labels, scores, patients, threshold=0.5, seed=7)
    predicted = scores >= 0.5
    estimates = {
        "auroc": roc_auc_score(labels, scores),
        "sensitivity": predicted[labels == 1].mean(),
        "specificity": (~predicted[labels == 0]).mean(),
    }
    independent = numpy_patient_bootstrap(labels, scores, patients, 0.5, 2000, seed=7)
    for name, estimate in estimates.items():
        low, high = out[f"{name}_ci95_patient_bootstrap"]
        assert low <= estimate <= high, name
        # Different generators, same method: the ends agree up to Monte Carlo error.
        assert np.abs(np.array([low, high]) - independent[name]).max() < 0.03, name
    info = out["patient_bootstrap"]
    assert info["patients"] == 60 and info["images"] == 240 and info["seed"] == 7
    assert info["replicates"] == 2000 and info["replicates_used"] + info["replicates_without_both_classes"] == 2000


def test_intervals_are_the_2_5_and_97_5_percentiles_of_patient_resamples(r_session):
    """Replayed on the same draws, an independent computation gives the same
    numbers: a 90 % interval, image resampling or a swapped statistic would not."""
    labels, scores, patients = clustered_data(patients=25, films=3, seed=8)
    patients = np.array([f"p{p:02d}" for p in patients])
    out = bootstrap(r_session, labels, scores, patients, threshold=0.45, replicates=300, seed=21)
    replayed = replayed_patient_bootstrap(r_session, labels, scores, patients, 0.45, 300, 21)
    for name in ("auroc", "sensitivity", "specificity"):
        assert out[f"{name}_ci95_patient_bootstrap"] == pytest.approx(replayed[name], abs=1e-12), name
    assert out["patient_bootstrap"]["replicates_used"] == replayed["used"]


def test_same_seed_same_interval_other_seed_other_interval(r_session):
    labels, scores, patients = clustered_data(seed=3)
    first = bootstrap(r_session, labels, scores, patients, replicates=500, seed=11)
    again = bootstrap(r_session, labels, scores, patients, replicates=500, seed=11)
    other = bootstrap(r_session, labels, scores, patients, replicates=500, seed=12)
    assert first == again
    assert first["auroc_ci95_patient_bootstrap"] != other["auroc_ci95_patient_bootstrap"]
    # The caller's random stream is left as it was.
    assert r_session("set.seed(5); a <- runif(1); set.seed(5); "
                     "invisible(patient_bootstrap(labels, scores, patients, 0.5, 20L, 1L)); identical(runif(1), a)")[0]


def test_patients_are_resampled_not_images(r_session):
    """Every patient has five identical films: they carry the information of one
    film, and only a patient-level bootstrap sees that. An image-level bootstrap
    (each image its own patient) is about sqrt(5) times narrower."""
    rng = np.random.default_rng(4)
    patient_label = np.repeat([0, 1], 20)
    patient_score = np.clip(0.4 + 0.2 * patient_label + rng.normal(0, 0.2, 40), 0, 1)
    ids = np.repeat(np.arange(40), 5)
    labels, scores = patient_label[ids], patient_score[ids]
    by_patient = bootstrap(r_session, labels, scores, ids)
    by_image = bootstrap(r_session, labels, scores, np.arange(ids.size))
    ratio = width(by_patient["auroc_ci95_patient_bootstrap"]) / width(by_image["auroc_ci95_patient_bootstrap"])
    assert 1.7 < ratio < 3.0
    assert width(by_patient["sensitivity_ci95_patient_bootstrap"]) > 1.7 * width(
        by_image["sensitivity_ci95_patient_bootstrap"]
    )
    # The independent version agrees on the patient-level width.
    independent = numpy_patient_bootstrap(labels, scores, ids, 0.5, 2000, seed=1)
    assert width(by_patient["auroc_ci95_patient_bootstrap"]) == pytest.approx(width(independent["auroc"]), rel=0.15)
    # DeLong treats the 200 films as independent, like the image-level bootstrap.
    delong = r_json(r_session, "binary_metrics(labels, scores, 0.5)")["auroc_ci95_delong"]
    assert width(by_patient["auroc_ci95_patient_bootstrap"]) > 1.7 * width(delong)


def test_replicates_without_both_classes_are_counted(r_session):
    """One positive patient (two films) among ten: a resample misses it with
    probability 0.9 ** 10 = 0.349; those replicates are counted, not hidden."""
    ids = np.array([0, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9])
    labels = (ids == 0).astype(int)
    scores = np.linspace(0.1, 0.9, ids.size)[::-1]
    out = bootstrap(r_session, labels, scores, ids, replicates=2000, seed=3)
    info = out["patient_bootstrap"]
    assert info["replicates_without_both_classes"] / 2000 == pytest.approx(0.9 ** 10, abs=0.05)
    assert info["replicates_used"] == 2000 - info["replicates_without_both_classes"]
    assert out["auroc_ci95_patient_bootstrap"] == [1, 1]  # the positive patient always ranks first
