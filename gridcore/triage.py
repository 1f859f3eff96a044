"""Triage: which category a resident's words are about — a trained topic model, the roster's keywords
and what the community's people corrected before, combined. Pure: the model is data passed in.

    live emergency keyword ("着火了", not "万一着火") ──▶ the emergency category, sure (safety first)
    otherwise, per category of the community:
        the model's probability of the category's topic (TopicModel: a linear model over character
        n-grams, trained by `gridbot triage build` on our corpus; shared by every community)
      × a boost for each of the roster's keywords found (the community's own words)
      + a vote from the most similar corrected message of this community (CorrectionMemory)
    ──▶ sure: one suggestion (confirmed with 是的 / 选其他类别)
        unsure: the two most likely categories as buttons, plus 其他 (the whole list)

A category takes part through its topic: its roster `topic`, else its name when that is one of the
model's topics; a category with neither is found by its keywords and corrections only.
"""

from __future__ import annotations

import math
import unicodedata
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from gridcore.community import Category
from gridcore.intake import KeywordEvidence, keyword_evidence

NGRAM_SIZES = (1, 2, 3)


@dataclass(frozen=True)
class Tuning:
    """How the evidence is weighed. The defaults were chosen on a development split of the training
    corpus, never on the evaluation set (docs/DECISIONS.md "Triage"; `gridbot triage eval`)."""

    keyword_boost: float = 0.45  # per keyword character found, on the log scale (capped below)
    keyword_cap: int = 6  # characters of keyword that still add to the boost
    sure_share: float = 0.6  # the best category's share needed to ask with one suggestion
    sure_margin: float = 2.0  # ... and how many times the second's it must be
    supposed_emergency: float = 0.05  # "万一着火": the emergency category's share is damped this much
    memory_min_similarity: float = 0.45  # a corrected message this similar (cosine) votes
    memory_sure_similarity: float = 0.85  # this similar: the corrected category, sure
    memory_weight: float = 3.0  # the vote's weight against the model's share


TUNING = Tuning()


def ngrams(text: str) -> list[str]:
    """The features of a text: its character 1- to 3-grams, after NFKC, lower case, no whitespace,
    every digit as 0 (a building number says nothing about the topic). Training uses this same
    function as the vectoriser's analyzer, so the shipped model reads text exactly as it was trained."""
    normal = "".join(unicodedata.normalize("NFKC", text).lower().split())
    normal = "".join("0" if char.isdigit() else char for char in normal)
    return [normal[i:i + n] for n in NGRAM_SIZES for i in range(len(normal) - n + 1)]


@dataclass(frozen=True)
class TopicModel:
    """A multinomial logistic regression over TF-IDF weighted character n-grams (scikit-learn's
    TfidfVectorizer with `ngrams` as analyzer, l2 norm, and LogisticRegression), as learnt weights:
    `weights[row * len(topics) + k]` is n-gram `row`'s weight for topic k."""

    topics: tuple[str, ...]
    rows: Mapping[str, int]
    idf: Sequence[float]
    weights: Sequence[float]
    intercepts: Sequence[float]
    meta: Mapping[str, object] = field(default_factory=dict)

    def vector(self, text: str) -> dict[int, float]:
        """The text's TF-IDF vector (row -> value), l2-normalised; n-grams the model never saw are
        left out, as the vectoriser leaves them out."""
        counts = Counter(row for gram in ngrams(text) if (row := self.rows.get(gram)) is not None)
        raw = {row: count * self.idf[row] for row, count in counts.items()}
        norm = math.sqrt(sum(value * value for value in raw.values()))
        return {row: value / norm for row, value in raw.items()} if norm else {}

    def probabilities(self, text: str) -> dict[str, float]:
        """The probability of each topic (they sum to 1)."""
        return self.probabilities_of(self.vector(text))

    def probabilities_of(self, vector: Mapping[int, float]) -> dict[str, float]:
        size = len(self.topics)
        scores = list(self.intercepts)
        for row, value in vector.items():
            base = row * size
            for k in range(size):
                scores[k] += self.weights[base + k] * value
        top = max(scores)
        exps = [math.exp(score - top) for score in scores]
        total = sum(exps)
        return {topic: e / total for topic, e in zip(self.topics, exps, strict=True)}


def cosine(a: Mapping[int, float], b: Mapping[int, float]) -> float:
    """Of two l2-normalised vectors."""
    if len(b) < len(a):
        a, b = b, a
    return sum(value * b.get(row, 0.0) for row, value in a.items())


@dataclass(frozen=True)
class CorrectionMemory:
    """A community's corrected messages (the category someone chose instead of the bot's), as vectors:
    a new message like one of them leans to the category chosen then. Newest first; a later correction
    of the same words wins."""

    vectors: tuple[tuple[dict[int, float], str], ...] = ()

    @classmethod
    def of(cls, model: TopicModel, corrections: Sequence[tuple[str, str]]) -> CorrectionMemory:
        """From (text, chosen category code) pairs, newest first."""
        return cls(tuple((vector, chosen) for text, chosen in corrections if (vector := model.vector(text))))

    def votes(self, vector: Mapping[int, float], tuning: Tuning = TUNING) -> dict[str, float]:
        """Per category code, the similarity of the most similar corrected message that chose it (only
        those at least tuning.memory_min_similarity alike)."""
        found: dict[str, float] = {}
        decided = False  # a near-identical message was corrected: older ones of the same words are past
        for stored, chosen in self.vectors:
            similarity = cosine(vector, stored)
            if similarity >= tuning.memory_sure_similarity:
                if decided:
                    continue
                decided = True
            if similarity >= tuning.memory_min_similarity and similarity > found.get(chosen, 0.0) + 1e-9:
                found[chosen] = similarity
        return found


@dataclass(frozen=True)
class Suggestion:
    """What the bot offers for a message: `categories` best first — one when sure, two when unsure,
    none when it has no idea (the whole list is asked)."""

    categories: tuple[Category, ...] = ()
    sure: bool = False
    emergency: bool = False  # a live emergency keyword matched: no question, whom to call at once

    @property
    def best(self) -> Category | None:
        return self.categories[0] if self.categories else None


def topic_of(category: Category, topics: Sequence[str]) -> str | None:
    """The model topic a category stands for: its roster topic, else its name if that is a topic."""
    if category.topic:
        return category.topic if category.topic in topics else None
    return category.name if category.name in topics else None


def category_shares(text: str, categories: Sequence[Category], model: TopicModel,
                    memory: CorrectionMemory | None, tuning: Tuning,
                    evidence: KeywordEvidence) -> tuple[list[float], dict[str, float]]:
    """Each category's share of the combined evidence (they sum to 1; all 0 when there is none), and
    the corrections' votes (CorrectionMemory.votes) that went into them."""
    vector = model.vector(text)
    probabilities = model.probabilities_of(vector)
    topics = [topic_of(category, model.topics) for category in categories]
    sharing = Counter(topics)  # several categories on one topic share it
    scores = []
    for index, (topic, keyword_score) in enumerate(zip(topics, evidence.scores, strict=True)):
        base = probabilities[topic] / sharing[topic] if topic is not None else 0.0
        if keyword_score:
            base = max(base, 0.02) * math.exp(tuning.keyword_boost * min(keyword_score, tuning.keyword_cap))
        if index in evidence.hypothetical:
            base *= tuning.supposed_emergency
        scores.append(base)
    total = sum(scores)
    shares = [score / total for score in scores] if total else scores
    votes = memory.votes(vector, tuning) if memory is not None else {}
    if votes:
        pairs = zip(shares, categories, strict=True)
        shares = [share + tuning.memory_weight * votes.get(c.code, 0.0) for share, c in pairs]
        total = sum(shares)
        shares = [share / total for share in shares]
    return shares, votes


def suggest(text: str, categories: Sequence[Category], model: TopicModel | None = None,
            memory: CorrectionMemory | None = None, tuning: Tuning = TUNING) -> Suggestion:
    """The categories to offer for a message (see the module's diagram). Without a model, the roster's
    keywords alone decide, as before the model existed: the best-scoring category, sure, or nothing."""
    evidence = keyword_evidence(text, categories)
    keyword_scores, live = evidence.scores, evidence.live
    if live:
        best = max(sorted(live), key=lambda i: (keyword_scores[i], -i))
        return Suggestion((categories[best],), sure=True, emergency=True)
    if model is None:
        best = max(range(len(categories)), key=lambda i: (keyword_scores[i], -i), default=None)
        if best is None or keyword_scores[best] == 0:
            return Suggestion()
        return Suggestion((categories[best],), sure=True)
    shares, votes = category_shares(text, categories, model, memory, tuning, evidence)
    if not any(shares):
        return Suggestion()
    order = sorted(range(len(categories)), key=lambda i: (-shares[i], i))
    first, second = order[0], (order[1] if len(order) > 1 else None)
    if second is None or shares[second] == 0:
        return Suggestion((categories[first],), sure=True)
    learnt = votes.get(categories[first].code, 0.0) >= tuning.memory_sure_similarity
    leads = shares[first] >= tuning.sure_share and shares[first] >= tuning.sure_margin * shares[second]
    if learnt or leads:
        return Suggestion((categories[first],), sure=True)
    return Suggestion((categories[first], categories[second]), sure=False)


def topic_warnings(categories: Sequence[Category], topics: Sequence[str]) -> list[str]:
    """What `gridbot roster check` says of categories the model cannot suggest: a roster topic it does
    not know, or a name that is no topic and no topic given (keywords and corrections still find it)."""
    warnings = []
    for category in categories:
        if category.topic and category.topic not in topics:
            warnings.append(f"category {category.code} ({category.name}): topic \"{category.topic}\" is not "
                            f"one of the triage model's topics ({'、'.join(topics)})")
        elif topic_of(category, topics) is None:
            warnings.append(f"category {category.code} ({category.name}) is suggested from its keywords and "
                            f"corrections only: give it `topic:` one of {'、'.join(topics)} if one fits")
    return warnings
