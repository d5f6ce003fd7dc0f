"""Damaged variants of real files for the robustness and fuzz tests: forged
image headers, truncations, bit flips; and a look at live processes in /proc
(psutil is not installed)."""

from __future__ import annotations

import os
import random
import struct
import zlib
from pathlib import Path

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def forge_png_size(data: bytes, width: int, height: int) -> bytes:
    """The PNG with its IHDR width and height replaced (and a valid CRC, so
    the decoder believes them)."""
    assert data.startswith(PNG_SIGNATURE) and data[12:16] == b"IHDR"
    fields = bytearray(data[16:29])
    fields[0:8] = struct.pack(">II", width, height)
    crc = struct.pack(">I", zlib.crc32(b"IHDR" + bytes(fields)))
    return data[:16] + bytes(fields) + crc + data[33:]


def forge_jpeg_size(data: bytes, width: int, height: int) -> bytes:
    """The JPEG with the size in its first start-of-frame marker replaced."""
    out = bytearray(data)
    i = 2
    while i + 4 <= len(out):
        marker, length = out[i + 1], struct.unpack(">H", out[i + 2 : i + 4])[0]
        if 0xC0 <= marker <= 0xCF and marker not in (0xC4, 0xC8, 0xCC):
            out[i + 5 : i + 9] = struct.pack(">HH", height, width)
            return bytes(out)
        i += 2 + length
    raise AssertionError("no start-of-frame marker")


def flip_bits(data: bytes, rng: random.Random, flips: int) -> bytes:
    out = bytearray(data)
    for _ in range(flips):
        position = rng.randrange(len(out))
        out[position] ^= 1 << rng.randrange(8)
    return bytes(out)


def truncate(data: bytes, rng: random.Random) -> bytes:
    return data[: rng.randrange(len(data))]


def children_of(pid: int) -> list[int]:
    """Live processes whose parent is ``pid``."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            stat = _stat_fields(int(entry.name))
            if stat and stat[1] == str(pid) and stat[0] != "Z":
                found.append(int(entry.name))
    return found


def is_alive(pid: int) -> bool:
    """Running (a zombie waiting to be reaped has exited)."""
    stat = _stat_fields(pid)
    return bool(stat) and stat[0] != "Z"


def _stat_fields(pid: int) -> list[str] | None:
    """State and parent pid from /proc/<pid>/stat (the name may hold spaces)."""
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    return text.rsplit(")", 1)[1].split()[:2]


def kill_quietly(pids: list[int], sig: int) -> None:
    for pid in pids:
        try:
            os.kill(pid, sig)
        except ProcessLookupError:
            pass
