"""A Keras model as plain data (layer classes, the settings that define them, the parameter
count), for tests/test_model_architecture.py, which reads it from R through reticulate."""

from __future__ import annotations

import json

import numpy as np

SETTINGS = ("filters", "kernel_size", "strides", "padding", "use_bias", "momentum", "rate", "units",
            "pool_size", "scale", "offset", "activation")


def plain(value):
    return np.asarray(value).ravel().tolist() if isinstance(value, (list, tuple, np.ndarray)) else value


def describe(model) -> str:
    layers = []
    for layer in model.layers:
        config = layer.get_config()
        row = {"class": type(layer).__name__}
        row.update({key: plain(config[key]) for key in SETTINGS if key in config})
        if row["class"] == "Normalization":
            row["mean"], row["variance"] = plain(config["mean"]), plain(config["variance"])
        layers.append(row)
    return json.dumps({"layers": layers, "parameters": int(model.count_params()),
                       "output": [int(d) for d in model.output.shape[1:]]})
