r"""Kim's sentence tokeniser, kept exactly as in ``process_data.py`` of yoonkim/CNN_sentence (Kim 2014).

:func:`clean_str` is the function the paper's MR numbers were measured with, reproduced character for
character, quirks included:

- every character outside ``A-Za-z0-9(),!?'``\``` becomes a space (so ``ladrón`` -> ``ladr n``, and ``.``,
  ``-``, ``:`` and ``"`` vanish);
- contractions are split (``it's`` -> ``it 's``, ``don't`` -> ``do n't``, ``can't`` -> ``ca n't``,
  ``they're/we've/i'd/you'll`` -> ``they 're`` ...);
- ``,`` ``!`` ``(`` ``)`` ``?`` are spaced out, and the replacement strings of the last three keep their
  backslash (``" \( "``): Python's ``re.sub`` leaves an unknown escape such as ``\(`` in a replacement as it
  is, so the tokens are ``\(``, ``\)`` and ``\?``, exactly as Kim's vocabulary has them;
- runs of whitespace collapse to one space; the result is stripped and lower-cased (``TREC=False``).

:func:`clean_str_sst` is Kim's lighter variant for the Stanford Sentiment Treebank.
"""

from __future__ import annotations

import re
from typing import List

__all__ = ["clean_str", "clean_str_sst", "tokenize"]

# (pattern, replacement) in Kim's order. Kim wrote the replacements as plain literals: " \'s" is " 's", while
# " \( " keeps its backslash (not a string escape) and re.sub keeps the unknown escape "\(" as it is.
_RULES = (
    (re.compile(r"[^A-Za-z0-9(),!?\'\`]"), " "),
    (re.compile(r"\'s"), " 's"),
    (re.compile(r"\'ve"), " 've"),
    (re.compile(r"n\'t"), " n't"),
    (re.compile(r"\'re"), " 're"),
    (re.compile(r"\'d"), " 'd"),
    (re.compile(r"\'ll"), " 'll"),
    (re.compile(r","), " , "),
    (re.compile(r"!"), " ! "),
    (re.compile(r"\("), " \\( "),
    (re.compile(r"\)"), " \\) "),
    (re.compile(r"\?"), " \\? "),
    (re.compile(r"\s{2,}"), " "),
)
_SST_RULES = (_RULES[0], _RULES[-1])


def clean_str(string: str, TREC: bool = False) -> str:  # noqa: N803  (Kim's argument name)
    r"""Kim's tokenisation/cleaning for every dataset but SST; lower-cased unless ``TREC``.

    Args:
        string: one raw sentence.
        TREC: keep the case (Kim used it for the TREC question dataset only).

    Returns:
        The cleaned sentence, tokens separated by single spaces.

    Example:
        >>> clean_str("It's not a bad film, (really)!")
        "it 's not a bad film , \\( really \\) !"
    """
    for pattern, repl in _RULES:
        string = pattern.sub(repl, string)
    return string.strip() if TREC else string.strip().lower()


def clean_str_sst(string: str) -> str:
    """Kim's cleaning for the SST dataset: only the character filter, whitespace collapse and lower case."""
    for pattern, repl in _SST_RULES:
        string = pattern.sub(repl, string)
    return string.strip().lower()


def tokenize(string: str) -> List[str]:
    """``clean_str(string).split()``: the tokens of one sentence."""
    return clean_str(string).split()
