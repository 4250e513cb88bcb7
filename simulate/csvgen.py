"""Generated CSV uploads for the simulator: clean, messy-but-valid, and bad.

Every file is built from the caller's seeded RNG. ``kind`` says what the service should do
with it: ``clean`` and ``messy`` files must come back cleaned; ``bad`` files must be refused with
a specific message.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass

from simulate.scenarios import FileMix

_CITIES = ("Москва", "Kazan", "Berlin", "São Paulo", "Zürich", "Новосибирск", "Lyon", "Austin")
_PRODUCTS = ("widget", "gadget", '=HYPERLINK("http://x")', "doohickey", "gizmo", "@SUM(A1)")


@dataclass(frozen=True)
class Upload:
    file_name: str
    data: bytes
    mime_type: str
    #: ``clean``, ``messy`` or ``bad``.
    kind: str


def _row(rng: random.Random, i: int) -> list[str]:
    return [
        str(i),
        rng.choice(_CITIES),
        rng.choice(_PRODUCTS),
        f"{rng.uniform(-500, 5000):.2f}",
        f"2026-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}",
        rng.choice(("yes", "no", "")),
        f"  note {rng.randint(0, 99)}  ",
    ]


def _table(rng: random.Random, target_bytes: int, delimiter: str, ragged: bool) -> str:
    header = ["id", "city", "product", "amount", "date", "active", "note"]
    lines = [delimiter.join(header)]
    size, i = 0, 0
    while size < target_bytes:
        row = _row(rng, i)
        if ragged and rng.random() < 0.05:
            row = row[: rng.randint(2, len(row) - 1)]
        if rng.random() < 0.03 and len(lines) > 1:  # an exact duplicate row
            line = lines[-1]
        else:
            line = delimiter.join(f'"{c}"' if delimiter in c or '"' in c else c for c in row)
        lines.append(line)
        size += len(line) + 1
        i += 1
    return "\n".join(lines) + "\n"


def _size(rng: random.Random, mix: FileMix) -> int:
    # Log-normal from median and p95: sigma = ln(p95/median) / z95.
    sigma = math.log(mix.p95_bytes / mix.median_bytes) / 1.6448536269514722
    return int(min(mix.max_bytes, max(200, rng.lognormvariate(math.log(mix.median_bytes), sigma))))


def make_upload(rng: random.Random, mix: FileMix, serial: int) -> Upload:
    roll = rng.random()
    if roll < mix.bad_share:
        choice = rng.choice(("binary", "empty_rows", "png"))
        if choice == "binary":
            return Upload(
                f"export-{serial}.csv", bytes(rng.getrandbits(8) for _ in range(4096)), "text/csv", "bad"
            )
        if choice == "png":
            return Upload(f"photo-{serial}.png", b"\x89PNG\r\n\x1a\n" + b"\x00" * 512, "image/png", "bad")
        return Upload(f"blank-{serial}.csv", b"\n\n\n", "text/csv", "bad")
    target = _size(rng, mix)
    if roll < mix.bad_share + mix.messy_share:
        variant = rng.choice(("cp1251", "semicolon", "ragged", "bom_tab"))
        if variant == "cp1251":
            data = _table(rng, target, ";", ragged=False).encode("cp1251", errors="replace")
        elif variant == "semicolon":
            data = _table(rng, target, ";", ragged=False).encode()
        elif variant == "ragged":
            data = _table(rng, target, ",", ragged=True).encode()
        else:
            data = b"\xef\xbb\xbf" + _table(rng, target, "\t", ragged=False).encode()
        return Upload(f"messy-{variant}-{serial}.csv", data, "text/csv", "messy")
    return Upload(f"data-{serial}.csv", _table(rng, target, ",", ragged=False).encode(), "text/csv", "clean")
