"""Hyper-parameter search for CNNs with Optuna (``cnnlab tune``): trials train through ``fit``, report every
epoch so a pruner stops bad ones, share any Optuna storage across processes and machines, and the best trial
is evaluated once on the test split. See ``docs/tune.md``.

- :mod:`.space`: ``--param NAME=KIND:ARGS`` parsing and routing to fit options / model arguments;
- :mod:`.storage`: SQLite / RDB URL / journal file storages, stale-trial handling;
- :mod:`.objective`: one trial (the pruning callback);
- :mod:`.study`: the study, its workers; :mod:`.final`: summary and the best trial's test evaluation;
- :mod:`.plots`, :mod:`.report`: PNG plots and the HTML report.
"""
