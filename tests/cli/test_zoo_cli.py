"""``cnnlab zoo``: text table and one JSON document."""

from __future__ import annotations

import json

from cnnlab.cli import app as cli_app


def test_zoo_json(capsys):
    assert cli_app.main(["zoo", "--format", "json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    by_name = {r["name"]: r for r in rows}
    assert by_name["lecture_cnn"] == {"name": "lecture_cnn", "input_shape": [1, 28, 28], "params": 93_322,
                                      "description": by_name["lecture_cnn"]["description"]}
    assert by_name["lenet5"]["params"] == 61_706
    assert all(set(r) == {"name", "input_shape", "params", "description"} and r["description"] for r in rows)


def test_zoo_text(capsys):
    assert cli_app.main(["zoo"]) == 0
    out = capsys.readouterr().out
    line = next(ln for ln in out.splitlines() if ln.startswith("kerasvis_mnist "))
    assert "1×28×28" in line and "1,199,882" in line


def test_zoo_bad_format(capsys):
    assert cli_app.main(["zoo", "--format", "xml"]) == 2
    assert capsys.readouterr().err == "error: `--format` must be text or json; got 'xml'\n"
