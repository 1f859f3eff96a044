"""`gridbot triage build`: train the triage model on our corpus (triage/corpus/*.tsv) with scikit-learn
and write it as data the bot reads without scikit-learn (bot.triage_model). The evaluation set
(triage/eval.tsv) is never trained on; `gridbot triage eval` reports on it (bot.triage_eval).

The build is deterministic (same corpus, same scikit-learn → the same file), and refuses to write a
model whose scores differ from scikit-learn's own predict_proba."""

from __future__ import annotations

import gzip
import hashlib
import json
from dataclasses import dataclass
from pathlib import Path

from bot.triage_model import (
    FORMAT,
    MODEL_PATH,
    TRIAGE_DIR,
    floats_bytes,
    floats_of,
    model_from_parts,
    weights_path,
)
from gridcore.triage import NGRAM_SIZES, ngrams

CORPUS_DIR = TRIAGE_DIR / "corpus"
EVAL_PATH = TRIAGE_DIR / "eval.tsv"
# Regularisation and feature floor, chosen on a development split of the corpus (docs/DECISIONS.md).
C = 30.0
MIN_DF = 3


@dataclass(frozen=True)
class Example:
    text: str
    topic: str


def read_examples(path: Path) -> list[Example]:
    """`text<TAB>topic` lines; blank lines and lines starting with # are skipped."""
    examples = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip() or line.startswith("#"):
            continue
        parts = line.split("\t")
        if len(parts) != 2 or not parts[0].strip() or not parts[1].strip():
            raise ValueError(f"{path}:{number}: expected text<TAB>topic")
        examples.append(Example(parts[0].strip(), parts[1].strip()))
    return examples


def read_corpus(directory: Path = CORPUS_DIR) -> list[Example]:
    return [example for path in sorted(directory.glob("*.tsv")) for example in read_examples(path)]


def corpus_digest(directory: Path = CORPUS_DIR) -> str:
    """sha256 over the corpus files' names and bytes: the model records what it was built from."""
    digest = hashlib.sha256()
    for path in sorted(directory.glob("*.tsv")):
        digest.update(path.name.encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()


def train(examples: list[Example]):  # -> (TfidfVectorizer, LogisticRegression)
    from sklearn.feature_extraction.text import TfidfVectorizer  # a development dependency only
    from sklearn.linear_model import LogisticRegression

    vectorizer = TfidfVectorizer(analyzer=ngrams, min_df=MIN_DF, sublinear_tf=False, norm="l2")
    features = vectorizer.fit_transform([e.text for e in examples])
    classifier = LogisticRegression(C=C, max_iter=5000)
    classifier.fit(features, [e.topic for e in examples])
    return vectorizer, classifier


def export(vectorizer, classifier, *, meta: dict | None = None) -> tuple[dict, bytes]:
    """The fitted pair as the model's two parts (model_from_parts reads them): the header, and idf then
    the weights (row-major, n-gram by topic) as float32 — the only rounding: probabilities move < 1e-3,
    checked by build."""
    vocabulary = vectorizer.vocabulary_
    ngram_list = sorted(vocabulary, key=vocabulary.__getitem__)
    header = {
        "format": FORMAT, "ngram_sizes": list(NGRAM_SIZES),
        "topics": [str(topic) for topic in classifier.classes_],
        "ngrams": "\n".join(ngram_list),
        "intercepts": [float(b) for b in classifier.intercept_],
        "meta": meta or {},
    }
    floats = [float(v) for v in vectorizer.idf_] + [float(w) for w in classifier.coef_.T.ravel()]
    return header, floats_bytes(floats)




def largest_difference(model, vectorizer, classifier, texts: list[str]) -> float:
    """How far a model's probabilities are from scikit-learn's on the texts."""
    expected = classifier.predict_proba(vectorizer.transform(texts))
    worst = 0.0
    for text, row in zip(texts, expected, strict=True):
        got = model.probabilities(text)
        pairs = zip(classifier.classes_, row, strict=True)
        worst = max(worst, *(abs(got[str(topic)] - p) for topic, p in pairs))
    return worst


def build(out: Path = MODEL_PATH, corpus: Path = CORPUS_DIR) -> dict:
    """Train, check and write the model; returns its meta."""
    import sklearn

    examples = read_corpus(corpus)
    if not examples:
        raise ValueError(f"no training examples under {corpus}")
    vectorizer, classifier = train(examples)
    per_topic: dict[str, int] = {}
    for example in examples:
        per_topic[example.topic] = per_topic.get(example.topic, 0) + 1
    meta = {"corpus_sha256": corpus_digest(corpus), "examples": len(examples), "per_topic": per_topic,
            "scikit_learn": sklearn.__version__, "C": C, "min_df": MIN_DF}
    header, floats = export(vectorizer, classifier, meta=meta)
    check = [e.text for e in (read_examples(EVAL_PATH) if EVAL_PATH.exists() else examples[:500])]
    shipped = model_from_parts(header, floats_of(floats))
    meta["largest_difference_rounded"] = largest_difference(shipped, vectorizer, classifier, check)
    if meta["largest_difference_rounded"] > 1e-3:
        raise AssertionError(f"rounding moved a probability by {meta['largest_difference_rounded']}")
    out.parent.mkdir(parents=True, exist_ok=True)
    payload = json.dumps(header, ensure_ascii=False, separators=(",", ":")).encode()
    with open(out, "wb") as raw, gzip.GzipFile(fileobj=raw, mode="wb", mtime=0, filename="") as file:
        file.write(payload)
    weights_path(out).write_bytes(floats)
    meta["features"] = header["ngrams"].count("\n") + 1
    meta["bytes"] = out.stat().st_size + weights_path(out).stat().st_size
    return meta
