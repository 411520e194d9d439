"""``--param`` specs: parsing, the values Optuna is asked for, routing to fit options / model arguments, errors."""

from __future__ import annotations

import optuna
import pytest

from cnnlab.apps.tune import space
from cnnlab.apps.tune.cli_text import parse_fixed
from cnnlab.errors import ConfigError


def test_kinds_parse_to_their_bounds():
    assert space.parse_param("lr=loguniform:1e-4:1e-1") == space.Param("lr", "loguniform", 1e-4, 0.1)
    assert space.parse_param("dropout=uniform:0:0.6") == space.Param("dropout", "uniform", 0.0, 0.6)
    assert space.parse_param("epochs=int:2:10:2") == space.Param("epochs", "int", 2.0, 10.0, 2)
    assert space.parse_param("batch-size=logint:16:256") == space.Param("batch_size", "logint", 16.0, 256.0)
    p = space.parse_param("batch_size=choice:64,128,256")
    assert p.choices == (64, 128, 256) and all(type(c) is int for c in p.choices)
    mixed = space.parse_param("x=choice:adam, 0.5,true,3")
    assert mixed.choices == ("adam", 0.5, True, 3)


@pytest.mark.parametrize("spec", ["lr=loguniform:0.0001:0.1", "epochs=int:2:10:2", "width=choice:1,1.5,2",
                                  "dropout=uniform:0.0:0.6"])
def test_spec_round_trips(spec):
    p = space.parse_param(spec)
    assert space.parse_param(p.spec()) == p


def test_suggestions_are_what_optuna_records():
    params = space.parse_space(["lr=loguniform:1e-4:1e-1", "batch_size=choice:64,128", "epochs=int:2:10:2"])
    study = optuna.create_study(sampler=optuna.samplers.RandomSampler(seed=3))
    for _ in range(20):
        trial = study.ask()
        values = {p.name: p.suggest(trial) for p in params}
        assert 1e-4 <= values["lr"] <= 0.1 and values["batch_size"] in (64, 128) and values["epochs"] in (2, 4, 6, 8, 10)
        study.tell(trial, 0.0)
        assert study.trials[-1].params == values
    dist = study.trials[0].distributions
    assert dist["lr"].log and dist["epochs"].step == 2


@pytest.mark.parametrize("spec, message", [
    ("lr", r"must look like NAME=KIND:ARGS .*got 'lr'"),
    ("lr=normal:0:1", r"the kind must be one of loguniform, uniform, int, logint, choice; got 'normal'"),
    ("lr=loguniform:0:0.1", r"a log scale needs LOW > 0; got 0"),
    ("lr=uniform:0.5:0.1", r"LOW must be < HIGH; got 0.5 and 0.1"),
    ("lr=uniform:a:0.1", r"LOW must be a number; got 'a'"),
    ("lr=uniform:0.1", r"uniform needs LOW:HIGH; got '0.1'"),
    ("epochs=int:1.5:4", r"int bounds must be integers; got 1.5 and 4"),
    ("epochs=int:1:4:0", r"STEP must be an integer ≥ 1; got '0'"),
    ("batch_size=choice:", r"choice needs values, e.g. batch_size=choice:64,128,256"),
    ("batch_size=choice:64,64", r"choice values must be distinct; got 64, 64"),
    ("1x=uniform:0:1", r"the name must be an option name"),
])
def test_bad_specs_give_one_line_errors(spec, message):
    with pytest.raises(ConfigError, match=message) as err:
        space.parse_param(spec)
    assert "\n" not in str(err.value)


def test_names_route_to_fit_or_model():
    args = space.model_arguments("lecture_cnn")
    assert args == ["width", "dropout"]  # num_classes and input_shape are set by the data
    params = space.parse_space(["lr=loguniform:1e-4:1e-1", "width=choice:1,2", "dropout=uniform:0:0.5"])
    space.check_space(params, args, {"schedule": "onecycle"})
    fit_kw, model_kw = space.split_options({"lr": 0.01, "width": 2, "dropout": 0.1, "schedule": "onecycle"}, args)
    assert fit_kw == {"lr": 0.01, "schedule": "onecycle"} and model_kw == {"width": 2, "dropout": 0.1}


def test_space_errors():
    args = space.model_arguments("lecture_cnn")
    with pytest.raises(ConfigError, match=r"`--param depth` is neither a training option nor an argument of the "
                                          r"model; known: .*lr.*width, dropout"):
        space.check_space(space.parse_space(["depth=int:1:3"]), args, {})
    with pytest.raises(ConfigError, match=r"`--param seed` cannot be searched"):
        space.check_space(space.parse_space(["seed=int:1:3"]), args, {})
    with pytest.raises(ConfigError, match=r"`lr` is both searched \(--param\) and fixed \(lr=0.1\)"):
        space.check_space(space.parse_space(["lr=uniform:0.1:0.2"]), args, {"lr": 0.1})
    with pytest.raises(ConfigError, match=r"`--param lr` is given twice"):
        space.parse_space(["lr=uniform:0.1:0.2", "lr=uniform:0.1:0.3"])


def test_fixed_options():
    assert parse_fixed(["schedule=onecycle", "augment=true", "weight-decay=1e-4"]) == \
        {"schedule": "onecycle", "augment": True, "weight_decay": 1e-4}
    with pytest.raises(ConfigError, match=r"`--set` must look like NAME=VALUE .*got 'schedule'"):
        parse_fixed(["schedule"])


def test_lecture_cnn_knobs_keep_the_golden_default():
    from cnnlab import zoo

    count = lambda m: sum(p.numel() for p in m.parameters())  # noqa: E731
    assert count(zoo.create("lecture_cnn")) == 93_322
    # width 2: convs 1→64, 64→128, 128→128, dense 128*3*3→128, 128→10, counted by hand
    hand = (9 * 64 + 64) + (9 * 64 * 128 + 128) + (9 * 128 * 128 + 128) + (1152 * 128 + 128) + (128 * 10 + 10)
    assert count(zoo.create("lecture_cnn", width=2, dropout=0.3)) == hand
    names = [type(m).__name__ for m in zoo.create("lecture_cnn", dropout=0.3).modules()]
    assert names.count("Dropout") == 2 and "Dropout" not in [type(m).__name__ for m in zoo.create("lecture_cnn").modules()]
    with pytest.raises(ConfigError, match=r"`dropout` must be a number in \[0, 1\); got 1.5"):
        zoo.create("lecture_cnn", dropout=1.5)
