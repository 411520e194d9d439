"""Kim's clean_str, character for character, on his own kinds of examples; vocabulary and padding."""

from __future__ import annotations

import pytest
import torch

from cnnlab.apps.text.tokenize import clean_str, clean_str_sst, tokenize
from cnnlab.apps.text.vocab import Vocab, pad
from cnnlab.errors import ConfigError, DataError


@pytest.mark.parametrize("raw, cleaned", [
    # contractions: 's 've n't 're 'd 'll split off the word (Kim's rules 2-7)
    ("It's a film", "it 's a film"),
    ("don't can't won't", "do n't ca n't wo n't"),
    ("They're great, we've seen it, I'd go, you'll see", "they 're great , we 've seen it , i 'd go , you 'll see"),
    # punctuation spacing: , ! ( ) ? spaced; the last three keep Kim's backslash
    ("wow!great,really", "wow ! great , really"),
    ("(a)b?", "\\( a \\) b \\?"),
    # everything else outside A-Za-z0-9(),!?'` becomes a space, runs of spaces collapse
    ("3-d . . . \"quoted\" : done", "3 d quoted done"),
    ("``the movie''", "``the movie''"),
    ("el ladrón de orquídeas", "el ladr n de orqu deas"),
    ("  MiXeD   Case\t", "mixed case"),
    ("", ""),
])
def test_clean_str_kim_examples(raw, cleaned):
    assert clean_str(raw) == cleaned


def test_clean_str_trec_keeps_case_and_sst_variant():
    assert clean_str("It's GOOD (Really)?", TREC=True) == "It 's GOOD \\( Really \\) \\?"
    assert clean_str_sst("It's GOOD, (really)?") == "it's good, (really)?"
    assert tokenize("a (b) c?") == ["a", "\\(", "b", "\\)", "c", "\\?"]


def test_clean_str_on_an_mr_line():
    line = "the rock is destined to be the 21st century's new \" conan \" and that he's going to make a splash even greater than arnold schwarzenegger , jean-claud van damme or steven segal . "
    assert clean_str(line) == ("the rock is destined to be the 21st century 's new conan and that he 's going to make a "
                               "splash even greater than arnold schwarzenegger , jean claud van damme or steven segal")


def test_vocab_counts_documents_orders_and_round_trips():
    sents = [["a", "good", "good", "film"], ["a", "bad", "film"], ["a", "film"]]
    v = Vocab.build(sents)
    # document frequency: a 3, film 3, good 1 (twice in one sentence), bad 1; ties alphabetical
    assert v.itos == ["<pad>", "<unk>", "a", "film", "bad", "good"]
    assert v.counts == {"a": 3, "film": 3, "bad": 1, "good": 1}
    assert v.encode(["a", "great", "film"]) == [2, 1, 3]
    assert v.decode([0, 2, 1, 3, 0]) == ["a", "<unk>", "film"]
    v2 = Vocab.from_json(v.to_json())
    assert v2.itos == v.itos and v2.counts == v.counts
    assert Vocab.build(sents, min_count=2).itos == ["<pad>", "<unk>", "a", "film"]
    with pytest.raises(ConfigError, match="`min_count` must be ≥ 1; got 0"):
        Vocab.build(sents, min_count=0)
    with pytest.raises(DataError, match=r"token id 9 is outside the vocabulary \(0..5\)"):
        v.decode([9])


def test_pad_kim_layout_and_round_trip():
    seqs = [[5, 6, 7], [8], []]
    x = pad(seqs, edge=2)
    assert x.dtype == torch.long
    assert x.tolist() == [[0, 0, 5, 6, 7, 0, 0], [0, 0, 8, 0, 0, 0, 0], [0] * 7]
    assert [[i for i in row if i] for row in x.tolist()] == [s for s in seqs]
    assert pad(seqs, length=2).tolist() == [[5, 6], [8, 0], [0, 0]]  # longer sentences are cut
    with pytest.raises(ConfigError, match="`length` must be ≥ 1 and `edge` ≥ 0; got length=0, edge=0"):
        pad(seqs, length=0)
