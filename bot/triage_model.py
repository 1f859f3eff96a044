"""The shipped triage model (triage/model.json.gz and model.f32, built by `gridbot triage build`) read
into the core's gridcore.triage.TopicModel. Reading it needs only the standard library: scikit-learn,
which trained it, is a development dependency and is never imported by the bot (it would cost ~2 s
and ~120 MB per process; bench/RESULTS.md)."""

from __future__ import annotations

import gzip
import json
import logging
import sys
from array import array
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from gridcore.triage import NGRAM_SIZES, TopicModel

log = logging.getLogger(__name__)

TRIAGE_DIR = Path(__file__).resolve().parents[1] / "triage"
MODEL_PATH = TRIAGE_DIR / "model.json.gz"
FORMAT = 3
# The model is two files: model.json.gz — topics, n-grams (one string, "\n"-joined), intercepts, meta —
# and model.f32 — idf then the weights (row-major, n-gram by topic) as little-endian float32, read
# straight into two arrays. Loading thus holds ~11 MB and never ~700,000 Python floats or a decoded
# copy of the weights.
FLOAT = "f"


def weights_path(path: Path) -> Path:
    return path.with_name(path.name.removesuffix(".json.gz") + ".f32")


def floats_bytes(values: Iterable[float]) -> bytes:
    packed = array(FLOAT, values)
    if sys.byteorder != "little":
        packed.byteswap()
    return packed.tobytes()


class ModelError(ValueError):
    """The model file is missing, unreadable or of another format."""


def model_from_parts(header: dict[str, Any], floats: array) -> TopicModel:
    """The model from its header and its floats (idf, then weights)."""
    if header.get("format") != FORMAT or tuple(header.get("ngram_sizes", ())) != NGRAM_SIZES:
        raise ModelError(f"model format {header.get('format')} / n-grams {header.get('ngram_sizes')}: "
                         f"this code reads format {FORMAT} over {NGRAM_SIZES}; run `gridbot triage build`")
    topics = tuple(header["topics"])
    ngrams = header["ngrams"].split("\n")
    size = len(ngrams)
    if len(floats) != size * (1 + len(topics)):
        raise ModelError("model n-grams and weights differ in length")
    return TopicModel(topics=topics, rows={gram: i for i, gram in enumerate(ngrams)}, idf=floats[:size],
                      weights=floats[size:], intercepts=tuple(float(b) for b in header["intercepts"]),
                      meta=header.get("meta", {}))


def floats_of(packed: bytes) -> array:
    """floats_bytes read back."""
    floats = array(FLOAT)
    floats.frombytes(packed)
    if sys.byteorder != "little":
        floats.byteswap()
    return floats


def load_model(path: Path = MODEL_PATH) -> TopicModel:
    try:
        with gzip.open(path, "rt", encoding="utf-8") as file:
            header = json.load(file)
        floats = floats_of(weights_path(path).read_bytes())
        return model_from_parts(header, floats)
    except ModelError:
        raise
    except (OSError, ValueError, KeyError, EOFError) as error:  # unreadable, not gzip, not JSON, a field gone
        raise ModelError(f"cannot read the triage model {path}: {error}") from error


def load_or_none(path: Path = MODEL_PATH) -> TopicModel | None:
    """The model, or None (logged) when it cannot be read: triage then runs on the roster's keywords."""
    try:
        model = load_model(path)
    except ModelError as error:
        log.warning("%s; category suggestions use the roster's keywords only", error)
        return None
    log.info("triage model loaded: %d topics, %d n-grams", len(model.topics), len(model.rows))
    return model
