"""The shipped triage model (triage/model.json.gz, built by `gridbot triage build`) read into the core's
gridcore.triage.TopicModel. Reading it needs only the standard library: scikit-learn, which trained
it, is a development dependency and is never imported by the bot (it would cost ~2 s and ~100 MB per
process; bench/RESULTS.md)."""

from __future__ import annotations

import gzip
import json
import logging
from array import array
from pathlib import Path
from typing import Any

from gridcore.triage import NGRAM_SIZES, TopicModel

log = logging.getLogger(__name__)

TRIAGE_DIR = Path(__file__).resolve().parents[1] / "triage"
MODEL_PATH = TRIAGE_DIR / "model.json.gz"
FORMAT = 1


class ModelError(ValueError):
    """The model file is missing, unreadable or of another format."""


def model_from_data(data: dict[str, Any]) -> TopicModel:
    if data.get("format") != FORMAT or tuple(data.get("ngram_sizes", ())) != NGRAM_SIZES:
        raise ModelError(f"model format {data.get('format')} / n-grams {data.get('ngram_sizes')}: "
                         f"this code reads format {FORMAT} over {NGRAM_SIZES}; run `gridbot triage build`")
    topics = tuple(data["topics"])
    ngrams = data["ngrams"]
    weights = array("d")
    for row in data["weights"]:
        if len(row) != len(topics):
            raise ModelError("model weights do not match its topics")
        weights.extend(row)
    if not len(ngrams) == len(data["idf"]) == len(data["weights"]):
        raise ModelError("model n-grams, idf and weights differ in length")
    return TopicModel(topics=topics, rows={gram: i for i, gram in enumerate(ngrams)},
                      idf=array("d", data["idf"]), weights=weights,
                      intercepts=tuple(float(b) for b in data["intercepts"]), meta=data.get("meta", {}))


def load_model(path: Path = MODEL_PATH) -> TopicModel:
    try:
        with gzip.open(path, "rt", encoding="utf-8") as file:
            data = json.load(file)
    except (OSError, ValueError) as error:
        raise ModelError(f"cannot read the triage model {path}: {error}") from error
    return model_from_data(data)


def load_or_none(path: Path = MODEL_PATH) -> TopicModel | None:
    """The model, or None (logged) when it cannot be read: triage then runs on the roster's keywords."""
    try:
        model = load_model(path)
    except ModelError as error:
        log.warning("%s; category suggestions use the roster's keywords only", error)
        return None
    log.info("triage model loaded: %d topics, %d n-grams", len(model.topics), len(model.rows))
    return model
