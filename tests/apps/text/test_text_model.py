"""TextCNN: shapes and parameter counts, variants (frozen channels), Kim's init, the max-norm constraint."""

from __future__ import annotations

import types

import pytest
import torch

from cnnlab import zoo
from cnnlab.apps.text.model import TextCNN, max_norm_
from cnnlab.apps.text.train import MaxNorm
from cnnlab.errors import ConfigError


def _trainable(m):
    return sum(p.numel() for p in m.parameters() if p.requires_grad)


def test_parameter_counts_by_variant():
    V, D = 1000, 50
    conv = sum((D * k + 1) * 100 for k in (3, 4, 5))  # 60,300
    head = 300 * 2 + 2
    for variant, total, trainable in [("rand", V * D + conv + head, V * D + conv + head),
                                      ("static", V * D + conv + head, conv + head),
                                      ("nonstatic", V * D + conv + head, V * D + conv + head),
                                      ("multichannel", 2 * V * D + D * 1200 + conv + head, V * D + D * 1200 + conv + head)]:
        m = zoo.create("textcnn", vocab_size=V, embed_dim=D, variant=variant)
        assert sum(p.numel() for p in m.parameters()) == total, variant
        assert _trainable(m) == trainable, variant
    assert zoo.info("textcnn")["params"] == 20000 * 50 + conv + head == 1_060_902


def test_forward_any_length_and_kim_init():
    m = TextCNN(vocab_size=30, embed_dim=8, num_classes=3, maps=4)
    assert m(torch.randint(0, 30, (2, 5))).shape == (2, 3) and m(torch.randint(0, 30, (2, 40))).shape == (2, 3)
    assert float(m.conv(3).weight.detach().abs().max()) <= 0.01 and not m.classifier.weight.any()
    assert not m.embed.embedding.weight[0].any() and float(m.embed.embedding.weight.detach().abs().max()) <= 0.25


def test_multichannel_equals_sum_of_two_channel_convolutions():
    """Kim's two-channel filter (one kernel per channel, summed) is our 1-D conv over 2·D channels."""
    torch.manual_seed(1)
    m = TextCNN(vocab_size=20, embed_dim=4, variant="multichannel", windows=(2,), maps=3).double()
    ids = torch.randint(1, 20, (1, 7))
    conv = m.conv(2)
    w_dyn, w_sta = conv.weight[:, :4], conv.weight[:, 4:]  # (maps, D, k) each
    e_dyn = m.embed.embedding(ids).transpose(1, 2)
    e_sta = m.embed.embedding_static(ids).transpose(1, 2)
    two = torch.nn.functional.conv1d(e_dyn, w_dyn) + torch.nn.functional.conv1d(e_sta, w_sta) + conv.bias[:, None]
    torch.testing.assert_close(conv(m.embed(ids)), two)
    assert m.embed.embedding.weight.requires_grad and not m.embed.embedding_static.weight.requires_grad


def test_bad_arguments_one_line():
    with pytest.raises(ConfigError, match="`variant` must be one of rand, static, nonstatic, multichannel; got 'x'"):
        TextCNN(variant="x")
    with pytest.raises(ConfigError, match=r"`input_shape` must be \(L,\) with L ≥ the widest window 5; got \(4,\)"):
        TextCNN(input_shape=(4,))


def test_max_norm_function_matches_definition():
    m = TextCNN(vocab_size=10, embed_dim=4, maps=2, num_classes=3)
    with torch.no_grad():
        m.classifier.weight.copy_(torch.tensor([[3.0, 4.0, 0, 0, 0, 0], [0.3, 0.4, 0, 0, 0, 0], [0, 0, 0, 0, 6, 8]]))
    assert max_norm_(m, 3.0) == pytest.approx(3.0, abs=1e-5)
    w = m.classifier.weight
    torch.testing.assert_close(w[0], torch.tensor([1.8, 2.4, 0, 0, 0, 0]), atol=1e-5, rtol=0)  # 5 -> 3
    torch.testing.assert_close(w[1], torch.tensor([0.3, 0.4, 0, 0, 0, 0]))  # under the bound: untouched
    torch.testing.assert_close(w[2], torch.tensor([0, 0, 0, 0, 1.8, 2.4]), atol=1e-5, rtol=0)


def test_max_norm_callback_holds_after_every_step():
    """Rows start above 3 and large SGD steps push them out again; after each step's callback all are ≤ 3."""
    torch.manual_seed(0)
    m = TextCNN(vocab_size=50, embed_dim=8, maps=6)
    opt = torch.optim.SGD(m.parameters(), lr=20.0)
    cb, state = MaxNorm(3.0), types.SimpleNamespace(model=m)
    with torch.no_grad():
        m.classifier.weight.normal_(0.0, 2.0)  # rows start near norm 8.5
    x = torch.randint(1, 50, (40, 12))
    y = (x == 7).any(dim=1).long()
    before = []
    for _ in range(20):
        opt.zero_grad()
        torch.nn.functional.cross_entropy(m(x), y).backward()
        opt.step()
        before.append(float(m.classifier.weight.detach().norm(dim=1).max()))
        cb.on_step_end(state)
        assert float(m.classifier.weight.detach().norm(dim=1).max()) <= 3.0 + 1e-5
    assert max(before) > 3.0  # the constraint had work to do


def test_trimming_trailing_pads_is_exact():
    """Dropping all-<pad> trailing columns (keeping max(windows)) leaves every logit unchanged: a brute-force
    max over all windows of the fully padded batch, computed without the trim."""
    torch.manual_seed(0)
    m = TextCNN(vocab_size=40, embed_dim=6, maps=5, variant="multichannel").eval()
    with torch.no_grad():
        for k in m.windows:  # negative and positive biases: the all-pad windows' value relu(b) matters
            m.conv(k).bias.uniform_(-0.5, 0.5)
        m.classifier.weight.normal_()
    edge, full = 4, 4 + 30 + 4
    ids = torch.zeros(6, full, dtype=torch.long)
    for row, n in enumerate((1, 3, 7, 12, 9, 2)):
        ids[row, edge:edge + n] = torch.randint(1, 40, (n,))
    assert m.trim(ids).shape[1] == edge + 12 + max(m.windows) < full
    x = m.embed(ids)
    pooled = torch.cat([torch.relu(m.conv(k)(x)).amax(dim=2) for k in m.windows], dim=1)  # untrimmed max-over-time
    assert torch.allclose(m(ids), m.classifier(pooled), atol=1e-6)
    assert torch.equal(m.trim(ids[:, :edge + 12 + 2]), ids[:, :edge + 12 + 2])  # nothing to drop: unchanged


def test_word_and_embedding_dropout_only_in_training():
    torch.manual_seed(0)
    plain = TextCNN(vocab_size=50, embed_dim=8, variant="rand", input_shape=(12,))
    noisy = TextCNN(vocab_size=50, embed_dim=8, variant="rand", input_shape=(12,), word_dropout=0.3,
                    embed_dropout=0.2)
    noisy.load_state_dict(plain.state_dict())
    with torch.no_grad():
        plain.classifier.weight.normal_()
        noisy.classifier.weight.copy_(plain.classifier.weight)
    ids = torch.randint(2, 50, (400, 12))
    ids[:, -3:] = 0
    plain.eval(), noisy.eval()
    torch.testing.assert_close(noisy(ids), plain(ids), rtol=0, atol=0)  # eval: Kim's model exactly
    seen = []
    noisy.embed.register_forward_hook(lambda m, inp, out: seen.append(inp[0]))
    noisy.train()
    torch.manual_seed(1)
    noisy(ids)
    read = seen[-1]
    words = ids[:, :read.shape[1]]
    unk = (read == 1) & (words != 0)
    assert torch.equal(read[words == 0], words[words == 0])  # pads stay pads
    assert torch.equal(read[~unk], words[~unk])  # the rest is kept as is
    assert abs(unk.sum().item() / (words != 0).sum().item() - 0.3) < 0.03  # 3,600 words: 0.3 ± 3 std
    with pytest.raises(ConfigError, match="word_dropout"):
        TextCNN(vocab_size=50, embed_dim=8, word_dropout=1.0)
