"""Synthetic frontal chest radiographs ("phantoms") for the built-in demo data.

Each phantom has a body outline, two lungs with vascular markings, mediastinum,
heart, ribs, clavicles and diaphragm domes. A pneumothorax is drawn as it shows
on a film: a thin visceral pleural line with dark, marking-free air between it
and the chest wall. Its difficulty is graded: the sign's strength (size and
contrast together) runs from obvious to barely visible, and it overlaps ribs,
clavicles and devices (ECG electrodes and leads, in both classes); skin folds (a
pneumothorax mimic) appear in both classes too.

Like NIH's labels, mined from reports, a known share of the recorded labels is
wrong (LABEL_NOISE); unlike NIH, the generator knows the truth and writes it to
truth.csv, in the format of radiologists' adjudicated labels.

Everything derives from ``numpy.random.default_rng([seed, patient, ...])``, so a
given seed gives byte-identical files whatever the order of generation.
"""

from __future__ import annotations

import csv
import os
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFilter

from chestxray import NEGATIVE_CLASS
from chestxray.sources.folders import METADATA_FILE, class_folder_name
from chestxray.support.atomic import atomic_path
from chestxray.support.console import step

IMAGES_PER_PATIENT = (1, 2, 3)
# Raised whenever what a seed draws changes, so that images of an older generator
# (kept on disk, since re-runs keep existing files) are never mixed with new ones.
GENERATOR_VERSION = 2
# Share of images whose recorded label (class folder, metadata.csv) is the wrong one.
LABEL_NOISE = 0.08
# The true labels: 'Image Index' and the finding's column, YES where the sign is drawn.
TRUTH_FILE = "truth.csv"
# Share of films, in both classes, with ECG electrodes and leads over the chest.
DEVICE_SHARE = 0.3
# The binary demo's one sign: its data can only stand for this finding.
DEMO_FINDING = "Pneumothorax"
# The multi-label demo's other signs (sources/multilabel_demo.py), NIH's names; drawn only when
# render_phantom is given ``others``, so the binary demo's films stay byte for byte as they were.
OTHER_SIGNS = ("Effusion", "Cardiomegaly", "Nodule", "Mass")
# Cardiothoracic ratio (widest heart over widest inner thorax) of a multi-label film: normal below 0.5,
# cardiomegaly above it, graded by the sign's strength.
NORMAL_CTR = (0.36, 0.47)
ENLARGED_CTR = (0.53, 0.70)
# Radius (in half-film units) of a round opacity: a nodule is at most 3 cm, a mass larger.
OPACITY_RADIUS = {"Nodule": (0.020, 0.045), "Mass": (0.065, 0.110)}


@dataclass(frozen=True)
class Anatomy:
    """Per-patient shape parameters (stable across a patient's follow-ups)."""

    body_width: float
    lung_width: float
    lung_height: float
    lung_gap: float
    heart_size: float
    diaphragm: float
    rib_spacing: float
    vessel_seed: int


def _patient_anatomy(seed: int, patient: int) -> Anatomy:
    rng = np.random.default_rng([seed, patient, 0])
    return Anatomy(
        body_width=rng.uniform(0.82, 0.95),
        lung_width=rng.uniform(0.24, 0.30),
        lung_height=rng.uniform(0.50, 0.60),
        lung_gap=rng.uniform(0.34, 0.40),
        heart_size=rng.uniform(0.85, 1.15),
        diaphragm=rng.uniform(0.40, 0.50),
        rib_spacing=rng.uniform(0.105, 0.125),
        vessel_seed=int(rng.integers(2**31)),
    )


def _grid(size: int, rng: np.random.Generator):
    """Pixel coordinates in [-1, 1] after a small random rotation, scale and shift.

    Also returns the inverse map (anatomy coordinates -> pixel positions) used to
    draw thin structures with Pillow instead of per-pixel distance fields.
    """
    axis = np.linspace(-1.0, 1.0, size)
    x, y = np.meshgrid(axis, axis)
    angle = np.deg2rad(rng.uniform(-4, 4))
    dx, dy = rng.uniform(-0.05, 0.05, 2)
    scale = rng.uniform(0.95, 1.05)
    cos, sin = np.cos(angle), np.sin(angle)
    xr = (cos * x - sin * y) * scale + dx
    yr = (sin * x + cos * y) * scale + dy

    def to_pixel(px: float, py: float) -> tuple[float, float]:
        ux, uy = (px - dx) / scale, (py - dy) / scale
        gx, gy = cos * ux + sin * uy, -sin * ux + cos * uy
        return (gx + 1) / 2 * (size - 1), (gy + 1) / 2 * (size - 1)

    return xr, yr, to_pixel


def _soft(inside: np.ndarray, edge: float = 0.02) -> np.ndarray:
    """Soft indicator from a signed 'inside' field (positive inside)."""
    return 1.0 / (1.0 + np.exp(-np.clip(inside / edge, -60, 60)))


def _lung_field(x, y, a: Anatomy, side: int) -> np.ndarray:
    """Signed field, positive inside one lung (side -1: image left, +1: right)."""
    cx, cy = side * a.lung_gap, -0.02
    nx, ny = (x - cx) / a.lung_width, (y - cy) / a.lung_height
    # Flatter medial border, rounded apex and a costophrenic angle at the base.
    nx = np.where(side * (x - cx) < 0, nx * 1.25, nx)
    ellipse = 1.0 - (np.abs(nx) ** 2.2 + np.abs(ny) ** 2.0)
    dome = a.diaphragm - 0.08 * np.cos((x - cx) / a.lung_width * 1.4) - y
    return np.minimum(ellipse * 0.25, dome)


def _vessels(a: Anatomy, side: int, size: int, to_pixel) -> np.ndarray:
    """Branching vascular markings radiating from the hilum, thinning outwards."""
    rng = np.random.default_rng([a.vessel_seed, side + 1])
    canvas = Image.new("L", (size, size), 0)
    draw = ImageDraw.Draw(canvas)
    hilum = np.array([side * (a.lung_gap - 0.12), 0.02])
    for _ in range(16):
        angle = rng.uniform(-np.pi * 0.85, np.pi * 0.85) + (0 if side > 0 else np.pi)
        length = rng.uniform(0.25, 0.5)
        start, width = hilum, rng.uniform(0.010, 0.016)
        for _ in range(3):
            angle += rng.normal(0, 0.35)
            end = start + length / 3 * np.array([np.cos(angle), np.sin(angle)])
            pixels = max(1, round(width * size))
            draw.line([to_pixel(*start), to_pixel(*end)], fill=int(255 * min(1.0, width / 0.016)), width=pixels)
            start, width = end, width * 0.7
    blurred = canvas.filter(ImageFilter.GaussianBlur(max(0.5, size / 400)))
    return np.asarray(blurred, dtype=np.float64) / 255.0


def _ribs(x, y, a: Anatomy) -> np.ndarray:
    """Posterior ribs: bright arcs falling laterally from the spine."""
    out = np.zeros_like(x)
    for i in range(9):
        y0 = -0.66 + i * a.rib_spacing
        curve = y0 + 0.85 * (np.abs(x) - 0.05) ** 2
        band = np.exp(-(((y - curve) / 0.024) ** 2))
        out = np.maximum(out, band * (np.abs(x) > 0.07))
    cage = _soft(1 - ((x / (a.lung_gap + a.lung_width + 0.06)) ** 2 + ((y + 0.05) / 0.72) ** 2), 0.05)
    return out * cage


def _pneumothorax(x, y, a: Anatomy, side: int, collapse: float):
    """Air space and pleural line of a pneumothorax in one lung.

    The collapsed lung is the original lung shrunk towards its hilum by
    ``collapse``; the band between the two borders is air with no lung markings.
    """
    hilum_x, hilum_y = side * (a.lung_gap - 0.10), 0.10
    xs = hilum_x + (x - hilum_x) / (1 - collapse)
    ys = hilum_y + (y - hilum_y) / (1 - collapse * 0.6)
    lung = _lung_field(x, y, a, side)
    collapsed = _lung_field(xs, ys, a, side)
    air = _soft(lung, 0.01) * (1 - _soft(collapsed, 0.01))
    pleural_line = np.exp(-((collapsed / 0.008) ** 2)) * _soft(lung, 0.01)
    return air, pleural_line


def _skin_fold(x, y, rng: np.random.Generator) -> np.ndarray:
    """A pneumothorax mimic: a faint curved edge with markings on both sides."""
    side = rng.choice([-1, 1])
    cx = side * rng.uniform(0.45, 0.65)
    curve = cx + side * 0.25 * (y + 0.1) ** 2
    return np.exp(-(((x - curve) / 0.008) ** 2)) * (np.abs(y) < 0.5)


def _devices(size: int, to_pixel, rng: np.random.Generator) -> np.ndarray:
    """ECG electrodes (bright discs) over the chest with their leads running off the film."""
    canvas = Image.new("L", (size, size), 0)
    draw = ImageDraw.Draw(canvas)
    for _ in range(int(rng.integers(2, 5))):
        centre = np.array([rng.uniform(-0.6, 0.6), rng.uniform(-0.55, 0.35)])
        cx, cy = to_pixel(*centre)
        radius = 0.028 * size
        draw.ellipse([cx - radius, cy - radius, cx + radius, cy + radius], fill=255)
        exit_point = np.array([np.sign(centre[0]) * 1.1, rng.uniform(-0.2, 0.9)])
        bend = (centre + exit_point) / 2 + rng.normal(0, 0.15, 2)
        draw.line([to_pixel(*centre), to_pixel(*bend), to_pixel(*exit_point)], fill=200,
                  width=max(1, round(0.006 * size)))
    return np.asarray(canvas.filter(ImageFilter.GaussianBlur(max(0.5, size / 300))), dtype=np.float64) / 255.0


def sign_strength(seed: int, patient: int, follow_up: int) -> float:
    """How visible a positive film's pneumothorax is, from 0 (barely) to 1 (obvious)."""
    return float(np.random.default_rng([seed, patient, follow_up + 1, 1]).uniform(0.0, 1.0))


def other_sign_strength(seed: int, patient: int, follow_up: int, sign: str) -> float:
    """How visible one of OTHER_SIGNS is on a film, from 0 (barely) to 1 (obvious): its own stream."""
    stream = 10 + OTHER_SIGNS.index(sign)
    return float(np.random.default_rng([seed, patient, follow_up + 1, stream]).uniform(0.0, 1.0))


def thorax_half_width(a: Anatomy) -> float:
    """Half the inner thoracic width: from the midline to a lung's outer border."""
    return a.lung_gap + a.lung_width


def heart_half_width(a: Anatomy, ctr: float | None) -> float:
    """The heart's half width: the patient's own (binary demo), or the one that gives ``ctr``."""
    return 0.26 * a.heart_size if ctr is None else ctr * thorax_half_width(a)


def cardiothoracic_ratio(seed: int, patient: int, follow_up: int, enlarged: bool) -> float:
    """A multi-label film's cardiothoracic ratio: normal, or enlarged as far as its strength says."""
    if enlarged:
        low, high = ENLARGED_CTR
        return low + (high - low) * other_sign_strength(seed, patient, follow_up, "Cardiomegaly")
    rng = np.random.default_rng([seed, patient, follow_up + 1, 9])
    return float(rng.uniform(*NORMAL_CTR))


def heart_field(x, y, half_width: float) -> np.ndarray:
    """Signed field, positive inside the heart's shadow (an ellipse left of the midline's right)."""
    return 1 - (((x - 0.08) / half_width) ** 2 + ((y - 0.28) / 0.22) ** 2)


def _effusion(x, y, a: Anatomy, side: int, strength: float) -> np.ndarray:
    """Pleural fluid at one lung's base: it fills the costophrenic angle and climbs the chest wall,
    so its upper border is a meniscus, higher laterally than medially."""
    lateral = np.clip(side * (x - side * a.lung_gap) / a.lung_width, -1, 1)  # -1 medial, 1 at the wall
    depth = (0.12 + 0.45 * strength) * a.lung_height
    surface = a.diaphragm - 0.06 - depth * (0.7 + 0.3 * lateral + 0.5 * np.clip(lateral, 0, 1) ** 2)
    below_surface = _soft(y - surface, 0.015)
    in_hemithorax = _soft(_lung_field(x, y, a, side) + 0.03, 0.012)  # the angle itself included
    return below_surface * in_hemithorax


def _round_opacity(x, y, a: Anatomy, sign: str, strength: float, rng: np.random.Generator) -> np.ndarray:
    """A nodule or mass: a round opacity inside one lung, larger with its strength."""
    side = int(rng.choice([-1, 1]))
    cx = side * (a.lung_gap + rng.uniform(-0.35, 0.35) * a.lung_width)
    cy = rng.uniform(-0.35, 0.20)
    low, high = OPACITY_RADIUS[sign]
    radius = low + (high - low) * strength
    return _soft(1 - ((x - cx) ** 2 + (y - cy) ** 2) / radius**2, 0.25)


def _draw_other_signs(img, x, y, a: Anatomy, others: frozenset, seed: int, patient: int, follow_up: int):
    """The multi-label film's effusion and round opacities, each from its own stream."""
    for sign in ("Nodule", "Mass"):
        if sign in others:
            strength = other_sign_strength(seed, patient, follow_up, sign)
            rng = np.random.default_rng([seed, patient, follow_up + 1, 20 + OTHER_SIGNS.index(sign)])
            img = img + (0.08 + 0.18 * strength) * _round_opacity(x, y, a, sign, strength, rng)
    if "Effusion" in others:
        strength = other_sign_strength(seed, patient, follow_up, "Effusion")
        side = int(np.random.default_rng([seed, patient, follow_up + 1, 20]).choice([-1, 1]))
        fluid = _effusion(x, y, a, side, strength)
        img = img * (1 - fluid) + (0.46 + 0.06 * strength) * fluid  # water density: markings hidden
    return img


def render_phantom(seed: int, patient: int, follow_up: int, positive: bool, size: int = 256,
                   others: frozenset[str] | None = None) -> np.ndarray:
    """One phantom radiograph as a uint8 array (size x size); bright = dense.

    ``others``: the multi-label demo's film, with those of OTHER_SIGNS drawn and a heart sized to a
    normal or enlarged cardiothoracic ratio; None (the binary demo) draws the film as it always was.
    """
    a = _patient_anatomy(seed, patient)
    rng = np.random.default_rng([seed, patient, follow_up + 1])
    x, y, to_pixel = _grid(size, rng)

    body = _soft(1 - (np.abs(x / a.body_width) ** 2.6 + np.abs((y - 0.15) / 1.2) ** 2.6), 0.03)
    neck = _soft(0.14 - np.abs(x), 0.02) * (y < -0.7)
    img = 0.04 + 0.36 * np.maximum(body, neck)
    img += 0.08 * _soft(0.5 - np.abs(x) ** 2 - 0.2 * y, 0.2) * body  # thicker centre

    lungs = {s: _soft(_lung_field(x, y, a, s), 0.012) for s in (-1, 1)}
    markings = {s: _vessels(a, s, size, to_pixel) for s in (-1, 1)}
    texture = np.asarray(
        Image.fromarray((rng.random((size, size)) * 255).astype(np.uint8)).filter(ImageFilter.GaussianBlur(size / 90)),
        dtype=np.float64,
    ) / 255.0

    # The sign has its own random stream, so a film with and without it differs
    # only by the sign (same exposure, noise and position).
    # Strength scales the sign's size and contrast together, so weak signs are
    # small and faint (the hard cases) and strong ones large and dark.
    strength = sign_strength(seed, patient, follow_up)
    sign_rng = np.random.default_rng([seed, patient, follow_up + 1, 2])
    if positive:
        side = int(sign_rng.choice([-1, 1]))
        air, pleural_line = _pneumothorax(x, y, a, side, collapse=0.05 + 0.40 * strength)
    else:
        air = pleural_line = np.zeros_like(x)
    air_contrast, line_contrast = 0.02 + 0.10 * strength, 0.04 + 0.20 * strength
    for s in (-1, 1):
        lung = lungs[s]
        darken = 0.26 - 0.04 * (y + 1)  # bases look denser than apices
        img -= darken * lung
        lung_tissue = lung * (1 - air)
        img += 0.12 * markings[s] * lung_tissue + 0.10 * (texture - 0.5) * lung_tissue
    # Free air: darker, no markings; how visible it is varies like exposure does.
    img -= air_contrast * air
    img += line_contrast * pleural_line

    mediastinum = _soft(0.11 - np.abs(x + 0.01 * y), 0.02) * (y < 0.55)
    ctr = None if others is None else cardiothoracic_ratio(seed, patient, follow_up, "Cardiomegaly" in others)
    heart = _soft(heart_field(x, y, heart_half_width(a, ctr)), 0.05)
    img = np.maximum(img, 0.56 * mediastinum * body + 0.04)
    img = np.maximum(img, 0.54 * heart * body)
    below_diaphragm = _soft(y - (a.diaphragm + 0.02 - 0.10 * np.cos(x * 2.2)), 0.015) * body
    img = np.maximum(img, 0.50 * below_diaphragm)
    if others:
        img = _draw_other_signs(img, x, y, a, others, seed, patient, follow_up)

    img += 0.16 * _ribs(x, y, a) * body
    for s in (-1, 1):
        clavicle = np.exp(-(((y + 0.60 + 0.22 * (s * x - 0.08)) / 0.028) ** 2)) * (s * x < 0.62) * (s * x > 0.06)
        img += 0.18 * clavicle
    if rng.random() < 0.25:
        img += rng.uniform(0.03, 0.08) * _skin_fold(x, y, rng)
    device_rng = np.random.default_rng([seed, patient, follow_up + 1, 3])
    if device_rng.random() < DEVICE_SHARE:
        img = np.maximum(img, 0.75 * _devices(size, to_pixel, device_rng))

    gamma = rng.uniform(0.8, 1.25)  # exposure
    img = np.clip(img, 0, 1) ** gamma
    img = img * rng.uniform(0.85, 1.0) + rng.uniform(0.0, 0.08)
    img += rng.normal(0, rng.uniform(0.015, 0.035), img.shape)  # quantum noise
    out = Image.fromarray(np.clip(img * 255, 0, 255).astype(np.uint8)).filter(ImageFilter.GaussianBlur(0.6))
    return np.asarray(out)


@dataclass(frozen=True)
class PhantomRecord:
    image: str
    label: str  # the recorded label: wrong for a LABEL_NOISE share of images
    true_label: str
    patient_id: int
    follow_up: int
    patient_age: int
    patient_sex: str
    view_position: str


def plan_dataset(n_per_class: int, seed: int) -> list[PhantomRecord]:
    """Assign 2 * n_per_class images to patients with 1-3 films each.

    Some patients hold images of both classes (a pneumothorax and a later clear
    film), as in the real data, so an image-level split would leak patients.
    Exactly round(LABEL_NOISE * 2 * n_per_class) images get the other class as
    their recorded label; the classes stay balanced as recorded.
    """
    rng = np.random.default_rng([seed, 2**20])
    labels = rng.permutation([DEMO_FINDING] * n_per_class + [NEGATIVE_CLASS] * n_per_class)
    wrong = set(
        np.random.default_rng([seed, 2**21]).choice(len(labels), round(LABEL_NOISE * len(labels)), replace=False)
    )
    other = {DEMO_FINDING: NEGATIVE_CLASS, NEGATIVE_CLASS: DEMO_FINDING}
    return [
        PhantomRecord(
            image=film.image,
            label=str(labels[i]),
            true_label=other[str(labels[i])] if i in wrong else str(labels[i]),
            patient_id=film.patient_id,
            follow_up=film.follow_up,
            patient_age=film.patient_age,
            patient_sex=film.patient_sex,
            view_position=film.view_position,
        )
        for i, film in enumerate(patient_films(len(labels), rng))
    ]


@dataclass(frozen=True)
class Film:
    """Where a demo film sits: its NIH-style name, its patient and the patient's details."""

    image: str
    patient_id: int
    follow_up: int
    patient_age: int
    patient_sex: str
    view_position: str


def patient_films(n_images: int, rng: np.random.Generator) -> list[Film]:
    """``n_images`` films dealt to patients of 1-3 films each (age and sex per patient, the view
    per film), all drawn from ``rng`` in that order."""
    films, patient = [], 0
    while len(films) < n_images:
        patient += 1
        n_films = int(rng.choice(IMAGES_PER_PATIENT))
        age, sex = int(rng.integers(18, 90)), str(rng.choice(["M", "F"]))
        for follow_up in range(min(n_films, n_images - len(films))):
            view = "AP" if rng.random() < 0.35 else "PA"
            films.append(Film(f"{patient:08d}_{follow_up:03d}.png", patient, follow_up, age, sex, view))
    return films


def _render_to_file(job: tuple) -> None:
    seed, patient, follow_up, positive, size, path = job
    write_png(render_phantom(seed, patient, follow_up, positive, size), path)


def draw_all(render_to_file, jobs: list) -> None:
    """Draw ``jobs`` on every core when there are enough of them (32 a process) to pay for starting processes."""
    workers = min(os.cpu_count() or 1, max(1, len(jobs) // 32))
    if workers > 1:
        with ProcessPoolExecutor(max_workers=workers) as pool:
            list(pool.map(render_to_file, jobs, chunksize=16))
    else:
        for job in jobs:
            render_to_file(job)


def write_png(array: np.ndarray, path: Path) -> None:
    with atomic_path(path) as tmp:
        Image.fromarray(array).save(tmp, format="PNG", optimize=False)


def demo_folder(base: str | os.PathLike, n_per_class: int, seed: int) -> Path:
    """Where the demo draws ``n_per_class`` phantoms per class with ``seed``: one folder per
    draw and generator version, so renders with other sizes, seeds or generators never mix
    their images."""
    return Path(base) / f"v{GENERATOR_VERSION}-n{int(n_per_class)}-seed{int(seed)}"


def write_demo_dataset(out_dir: str | os.PathLike, n_per_class: int = 300, seed: int = 42, size: int = 256) -> Path:
    """Write phantom class folders (``Pneumothorax/``, ``No-Finding/``) and metadata.csv.

    Re-runs keep existing images (they are deterministic), so a re-render is fast.
    Returns the output folder.
    """
    if n_per_class < 1:
        raise ValueError(f"n_per_class must be at least 1, got {n_per_class}")
    out = Path(out_dir)
    records = plan_dataset(n_per_class, seed)
    for label in (DEMO_FINDING, NEGATIVE_CLASS):
        (out / class_folder_name(label)).mkdir(parents=True, exist_ok=True)
    todo = [(r, out / class_folder_name(r.label) / r.image) for r in records]
    todo = [(r, path) for r, path in todo if not path.exists()]
    step(f"Demo data: {2 * n_per_class} phantom radiographs in {out}"
         + (f" ({len(todo)} drawn now)" if todo else " (already drawn)"))
    draw_all(_render_to_file, [(seed, r.patient_id, r.follow_up, r.true_label == DEMO_FINDING, size, path)
                               for r, path in todo])
    _write_metadata(out / METADATA_FILE, records)
    _write_truth(out / TRUTH_FILE, records)
    return out


def _write_metadata(path: Path, records: list[PhantomRecord]) -> None:
    with atomic_path(path) as tmp, open(tmp, "w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(["image", "label", "patient_id", "follow_up", "patient_age", "patient_sex", "view_position"])
        for r in records:
            writer.writerow(
                [r.image, r.label, r.patient_id, r.follow_up, r.patient_age, r.patient_sex, r.view_position]
            )


def _write_truth(path: Path, records: list[PhantomRecord]) -> None:
    with atomic_path(path) as tmp, open(tmp, "w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(["Image Index", DEMO_FINDING])
        for r in records:
            writer.writerow([r.image, "YES" if r.true_label == DEMO_FINDING else "NO"])
