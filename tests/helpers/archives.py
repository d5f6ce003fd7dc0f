"""Archives and images the download, extraction and command-line tests serve and unpack."""

import io
import tarfile

import numpy as np
from PIL import Image


def png_bytes(seed: int, size: int = 96) -> bytes:
    noise = np.random.default_rng(seed).integers(0, 256, (size, size), dtype=np.uint8)
    buffer = io.BytesIO()
    Image.fromarray(noise).save(buffer, format="PNG")
    return buffer.getvalue()


def make_archive(members: dict[str, bytes], links: dict[str, str] | None = None) -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as tar:
        for name, data in members.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
        for name, target in (links or {}).items():
            info = tarfile.TarInfo(name)
            info.type = tarfile.SYMTYPE
            info.linkname = target
            tar.addfile(info)
    return buffer.getvalue()


def nih_images_archive(folder, names) -> bytes:
    """An images_NN.tar.gz as NIH ships it (members under images/) holding ``names`` from ``folder``."""
    archive = io.BytesIO()
    with tarfile.open(fileobj=archive, mode="w:gz", compresslevel=1) as tar:
        for name in names:
            tar.add(folder / name, arcname=f"images/{name}")
    return archive.getvalue()
