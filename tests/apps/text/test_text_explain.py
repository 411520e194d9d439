"""explain on a hand-weighted TextCNN whose winning n-grams, contributions and word scores are known exactly."""

from __future__ import annotations

import pytest
import torch

from cnnlab.apps.text.explain import explain_ids
from cnnlab.apps.text.model import TextCNN
from cnnlab.apps.text.vocab import Vocab, pad
from cnnlab.errors import ConfigError, ShapeError

VOCAB = Vocab(["the", "film", "was", "not", "good", "great"])


def toy() -> TextCNN:
    """One-hot embeddings; window 2: map 0 fires (=1) on "not good", map 1 on "great film"; window 3: map 0 on
    "was not good", map 1 never. Classifier: negative = 3·[not good] + 1·[was not good]; positive = 2·[great
    film] + 0.5."""
    s = VOCAB.stoi
    m = TextCNN(vocab_size=len(VOCAB), embed_dim=len(VOCAB), windows=(2, 3), maps=2).double().eval()
    with torch.no_grad():
        m.embed.embedding.weight.copy_(torch.eye(len(VOCAB), dtype=torch.float64))
        m.embed.embedding.weight[0] = 0
        for k in (2, 3):
            m.conv(k).weight.zero_()
            m.conv(k).bias.zero_()
        w2, w3 = m.conv(2).weight, m.conv(3).weight  # (maps, C, k)
        w2[0, s["not"], 0] = w2[0, s["good"], 1] = 1.0
        w2[1, s["great"], 0] = w2[1, s["film"], 1] = 1.0
        m.conv(2).bias.copy_(torch.tensor([-1.0, -1.0]))
        w3[0, s["was"], 0] = w3[0, s["not"], 1] = w3[0, s["good"], 2] = 1.0
        m.conv(3).bias[0] = -2.0
        m.classifier.weight.copy_(torch.tensor([[3.0, 0, 1, 0], [0, 2, 0, 0]]))
        m.classifier.bias.copy_(torch.tensor([0.0, 0.5]))
    return m


def ids_of(text: str):
    return pad([VOCAB.encode(text.split())], edge=2)[0].tolist()


def test_negative_sentence_winning_ngrams_and_exact_contributions():
    e = explain_ids(toy(), ids_of("the film was not good"), VOCAB.itos, top=2)
    assert e.tokens == ["<pad>", "<pad>", "the", "film", "was", "not", "good", "<pad>", "<pad>"]
    assert (e.target, e.other) == (0, 1)
    assert e.margin == pytest.approx(3.5)  # z_neg = 3 + 1, z_pos = 0.5
    best2, best3 = e.ngrams[2][0], e.ngrams[3][0]
    assert (best2.map, best2.position, best2.tokens) == (0, 5, ["not", "good"])
    assert (best2.activation, best2.weight_diff, best2.contribution) == pytest.approx((1.0, 3.0, 3.0))
    assert (best3.map, best3.position, best3.tokens, best3.contribution) == (0, 4, ["was", "not", "good"],
                                                                             pytest.approx(1.0))
    total = sum(h.contribution for hits in e.ngrams.values() for h in hits) + e.bias_diff
    assert total == pytest.approx(e.margin)  # contributions + bias difference = logit margin
    assert e.grad_x_input == pytest.approx([0, 0, 0, 0, 1, 4, 4, 0, 0])
    assert e.occlusion == pytest.approx([0, 0, 0, 0, 1, 4, 4, 0, 0])
    assert sum(e.probabilities) == pytest.approx(1.0)


def test_positive_sentence_and_forced_target():
    m = toy()
    e = explain_ids(m, ids_of("a great film"), VOCAB.itos, top=1)  # "a" is unknown -> <unk>
    assert e.tokens[2:5] == ["<unk>", "great", "film"] and e.target == 1
    hit = e.ngrams[2][0]
    assert (hit.tokens, hit.contribution) == (["great", "film"], pytest.approx(2.0))
    assert e.margin == pytest.approx(2.5)
    forced = explain_ids(m, ids_of("a great film"), VOCAB.itos, target=0)
    assert forced.target == 0 and forced.margin == pytest.approx(-2.5)
    assert m.training is False


def test_explain_errors():
    with pytest.raises(ShapeError, match=r"`ids` must be one padded sentence of ≥ 3 ids; got shape \(2,\)"):
        explain_ids(toy(), [1, 2], VOCAB.itos)
    with pytest.raises(ConfigError, match=r"`target` must be a class index in 0..1; got 5"):
        explain_ids(toy(), ids_of("good"), VOCAB.itos, target=5)
