"""Go: a 9×9 (any size ≤ 19) board, feature planes, policy CNNs without (and with) pooling, GNU Go self-play.

The lecture's point: a Go board is an image, so a CNN reads it, but sub-sampling would destroy it (every
intersection matters), so AlphaGo's policy network (Silver et al. 2016; Maddison et al. 2015; Clark & Storkey
2015) has no pooling. Parts: ``board`` (rules: captures, suicide, simple ko, passes, area scoring),
``features`` (input planes), ``symmetry`` (the 8 board symmetries), ``sgf`` (sgfmill read/write),
``gnugo`` (a GTP client for GNU Go), ``selfplay`` (parallel, resumable GNU Go games), ``models`` (zoo
families ``go_policy`` and ``go_policy_pool``), ``positions`` + ``train`` (SGF → positions → ``fit``),
``engine`` (a GTP engine driven by a trained policy), ``match`` (engine vs GNU Go, every move checked),
``show`` (policy heat maps) and ``report``.
"""
