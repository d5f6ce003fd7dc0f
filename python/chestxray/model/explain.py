"""Grad-CAM heat maps (Selvaraju et al., 2017) for the last convolutional layer."""

from __future__ import annotations

import numpy as np

from chestxray.model.backend import import_keras

keras = import_keras()


def last_conv_layer(model) -> str:
    """Name of the last layer giving 4-D feature maps that is not a pooling layer."""
    pooling = (keras.layers.MaxPooling2D, keras.layers.AveragePooling2D)
    for layer in reversed(model.layers):
        if isinstance(layer, (keras.layers.InputLayer, *pooling)):
            continue
        if len(layer.output.shape) == 4:
            return layer.name
    raise ValueError("the model has no convolutional feature maps: Grad-CAM needs a CNN")


def grad_cam(model, images: np.ndarray, layer: str | None = None, output: int | None = None) -> np.ndarray:
    """Heat maps in [0, 1] with the images' height and width, for the positive class (or, for the
    multi-label model, the finding of output number ``output``, 0-based).

    ``images``: float32 (n, h, w, 1) as fed to the model. Gradients are taken of
    the positive logit (before the final sigmoid or softmax): a confident
    prediction saturates the probability and its gradient vanishes. Uses
    TensorFlow's gradient tape (the training backend here).
    """
    import tensorflow as tf

    layer = layer or last_conv_layer(model)
    head = model.layers[-1]
    if not isinstance(head, keras.layers.Dense):
        raise ValueError("Grad-CAM here expects the model to end in a Dense layer")
    grad_model = keras.Model(model.inputs, [model.get_layer(layer).output, head.input])
    images = tf.convert_to_tensor(np.asarray(images, dtype=np.float32))
    with tf.GradientTape() as tape:
        features, penultimate = grad_model(images, training=False)
        logits = tf.matmul(penultimate, head.kernel) + head.bias
        if output is not None:
            score = logits[:, int(output)]
        else:
            score = logits[:, 1] - logits[:, 0] if logits.shape[-1] == 2 else logits[:, 0]
    grads = tape.gradient(score, features)
    weights = tf.reduce_mean(grads, axis=(1, 2), keepdims=True)
    cams = tf.nn.relu(tf.reduce_sum(weights * features, axis=-1))[..., tf.newaxis]
    cams = tf.image.resize(cams, images.shape[1:3], method="bilinear")[..., 0].numpy()
    peak = cams.reshape(len(cams), -1).max(axis=1).reshape(-1, 1, 1)
    return np.where(peak > 0, cams / np.where(peak > 0, peak, 1), 0.0)


def grad_cam_frame(model, cache_path: str, cache_rows, titles, output: int | None = None):
    """Long table (panel, x, y, value, heat) of cached images and their heat maps (for the finding of
    ``output`` in the multi-label model), for ggplot2."""
    import pandas as pd

    from chestxray.model.training import check_input_size
    from chestxray.preparation.cache import open_cache
    from chestxray.preparation.images import to_model_input

    cache = open_cache(cache_path)
    check_input_size(model, cache.shape[1], f"the image cache {cache_path}",
                     "explain a model on a cache built with its own image_size")
    pixels = cache[np.asarray(cache_rows, dtype=np.int64)]
    heat = grad_cam(model, to_model_input(pixels), output=output)
    size = pixels.shape[1]
    y, x = np.mgrid[0:size, 0:size]
    frames = [
        pd.DataFrame(
            {"panel": title, "x": x.ravel(), "y": size - 1 - y.ravel(), "value": image.ravel(), "heat": cam.ravel()}
        )
        for title, image, cam in zip(titles, pixels, heat)
    ]
    out = pd.concat(frames, ignore_index=True)
    out["panel"] = pd.Categorical(out["panel"], categories=list(dict.fromkeys(titles)))  # keep the given order
    return out
