"""LIME for text, and a text classifier made of a vectorizer and an xnn model.

``lime_text`` explains any classifier with ``predict_proba(list_of_str)``,
as the lime package's ``LimeTextExplainer``: words are removed at random
(every occurrence of a removed word), the classifier scores the shortened
texts, and a ridge regression on the bag-of-words presence masks, weighted
by an exponential kernel of the cosine distance, is the local surrogate.

``TextPipeline(vectorizer, model)`` is such a classifier for an xnn model
trained on the features of a fitted scikit-learn ``CountVectorizer`` or
``TfidfVectorizer``: every batch of texts is vectorised and goes through
the C forward in chunks of rows.
"""
import re

import numpy as np

from .. import _validate as V
from . import _common as C
from .agnostic import Explanations, LimeExplanation, _cosine_to_ones, _kernel, _ridge, _seed

__all__ = ["lime_text", "TextPipeline"]

#: rows of dense features per call of the model
TEXT_CHUNK = 4096


class TextPipeline:
    """A text classifier: a fitted scikit-learn vectorizer, then an xnn model.

    >>> vec = CountVectorizer().fit(texts)                      # doctest: +SKIP
    >>> model.fit(vec.transform(texts).toarray(), y)            # doctest: +SKIP
    >>> clf = xnn.explain.TextPipeline(vec, model)              # doctest: +SKIP
    >>> clf.predict_proba(["a good film"])                      # doctest: +SKIP

    ``predict_proba(texts)`` takes a list of strings and returns the model's
    outputs (m, n_classes); ``predict`` the arg-max.
    """

    def __init__(self, vectorizer, model):
        if not hasattr(vectorizer, "transform"):
            raise TypeError("vectorizer: expected a fitted scikit-learn vectorizer with "
                            f"transform(), got {type(vectorizer).__name__}")
        C.check_model(model)
        vocab = getattr(vectorizer, "vocabulary_", None)
        if vocab is None:
            raise ValueError("vectorizer: expected a fitted vectorizer (call fit first); "
                             "it has no vocabulary_")
        if len(vocab) != model.n_in:
            raise ValueError(f"model: expected {len(vocab)} inputs (the vectorizer's "
                             f"vocabulary), got {model.n_in}")
        self.vectorizer = vectorizer
        self.model = model

    @staticmethod
    def _texts(texts):
        if isinstance(texts, str) or not hasattr(texts, "__iter__"):
            raise TypeError(f"texts: expected a list of strings, got {type(texts).__name__}")
        texts = list(texts)
        for i, t in enumerate(texts):
            if not isinstance(t, str):
                raise TypeError(f"texts[{i}]: expected a string, got {type(t).__name__}")
        if not texts:
            raise ValueError("texts: expected at least one text, got an empty list")
        return texts

    def transform(self, texts):
        """The model's input rows for the texts (dense, the model's dtype)."""
        F = self.vectorizer.transform(self._texts(texts))
        return np.asarray(F.toarray() if hasattr(F, "toarray") else F, dtype=self.model.dtype)

    def predict_proba(self, texts):
        texts = self._texts(texts)
        out = np.empty((len(texts), self.model.n_out), dtype=self.model.dtype)
        for i0 in range(0, len(texts), TEXT_CHUNK):
            part = texts[i0:i0 + TEXT_CHUNK]
            out[i0:i0 + len(part)] = self.model.predict_proba(self.transform(part))
        return out

    def predict(self, texts):
        return np.argmax(self.predict_proba(texts), axis=1)

    def __repr__(self):
        return f"TextPipeline({type(self.vectorizer).__name__}, {self.model.n_in} features)"


class _Words:
    """lime's IndexedString with bow=True: the text split by a regular
    expression; each distinct word is a feature (ids in order of first
    appearance); removing a word removes all its occurrences."""

    def __init__(self, text, split_expression):
        splitter = re.compile(r"(%s)|$" % split_expression)
        self.tokens = [s for s in splitter.split(text) if s]
        vocab = {}
        self.words = []
        self.token_word = np.full(len(self.tokens), -1, dtype=np.int64)
        for i, tok in enumerate(self.tokens):
            if splitter.match(tok):
                continue
            if tok not in vocab:
                vocab[tok] = len(vocab)
                self.words.append(tok)
            self.token_word[i] = vocab[tok]

    def without(self, keep):
        """The text with the words whose keep flag is 0 removed."""
        return "".join(t for t, w in zip(self.tokens, self.token_word) if w < 0 or keep[w])


def lime_text(predict_proba, texts, target=None, n_samples=5000, kernel_width=25.0,
              alpha=1.0, split_expression=r"\W+", seed=0):
    """LIME for text, as the lime package's ``LimeTextExplainer`` (bag of
    words).

    Parameters
    ----------
    predict_proba : a callable list_of_str -> (n, n_classes) probabilities,
        or an object with such a ``predict_proba`` method (a
        ``TextPipeline``, a scikit-learn pipeline).
    texts : one string or a list of strings.
    target : None (the class predicted for the full text), a class, or one
        class per text.
    n_samples : perturbed texts per text, the first the text itself. Sample
        i > 0 removes k distinct words, k uniform in 1..n_words.
    kernel_width : 25 on the cosine distance times 100 (lime's default).
    split_expression : words are what ``re.split`` by this leaves (lime's
        default ``\\W+``).
    seed : draws of ``RandomState(seed)`` in lime's order.

    Returns a ``LimeExplanation`` per text (``Explanations`` for a list):
    ``weights`` per distinct word, ``feature_names`` the words,
    ``as_list()`` the words by decreasing |weight|.
    """
    fn = getattr(predict_proba, "predict_proba", predict_proba)
    if not callable(fn):
        raise TypeError("predict_proba: expected a callable or an object with predict_proba, "
                        f"got {type(predict_proba).__name__}")
    single = isinstance(texts, str)
    texts = [texts] if single else TextPipeline._texts(texts)
    n_samples = V.positive_int(n_samples, "n_samples", minimum=2)
    width = V.finite_float(kernel_width, "kernel_width", 0.0, low_open=True)
    alpha = V.finite_float(alpha, "alpha", 0.0)
    if not isinstance(split_expression, str):
        raise TypeError(f"split_expression: expected a regular expression string, got {split_expression!r}")
    rs = _seed(seed)
    out = Explanations()
    targets = None
    if target is not None:
        targets = C.targets_of(target, len(texts), 2**62)
    for i, text in enumerate(texts):
        words = _Words(text, split_expression)
        M = len(words.words)
        if M == 0:
            raise ValueError(f"texts[{i}]: no words to explain in {text!r}")
        sizes = rs.randint(1, M + 1, n_samples - 1)
        data = np.ones((n_samples, M))
        for j, size in enumerate(sizes, start=1):
            data[j, rs.choice(M, size, replace=False)] = 0
        perturbed = [text] + [words.without(data[j]) for j in range(1, n_samples)]
        probs = np.asarray(fn(perturbed), dtype=np.float64)
        if probs.ndim != 2 or probs.shape[0] != n_samples:
            raise ValueError(f"predict_proba: expected an array ({n_samples}, n_classes) for "
                             f"{n_samples} texts, got shape {probs.shape}")
        t = int(np.argmax(probs[0])) if targets is None else int(targets[i])
        if not 0 <= t < probs.shape[1]:
            raise ValueError(f"target: expected a class in [0, {probs.shape[1]}), got {t}")
        y = probs[:, t]
        kw = _kernel(_cosine_to_ones(data) * 100, width)
        coef, intercept, score, local = _ridge(data, y, kw, alpha)
        out.append(LimeExplanation(
            weights=coef, intercept=intercept, score=score, local_pred=local,
            prediction=float(y[0]), target=t, output="probability", segments=None,
            map=coef, samples=data, scores=y, kernel_weights=kw, feature_names=list(words.words),
            n_samples=n_samples, texts=perturbed))
    return out[0] if single else out
