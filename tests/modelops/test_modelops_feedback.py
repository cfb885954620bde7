"""Feedback marks: validation, training rows, and their place in the training corpus."""

from __future__ import annotations

import pytest

from bastion.modelops.feedback import FeedbackError, check_feedback, training_inputs
from bastion.waf.train import TrainConfig, build_rows


def test_check_feedback() -> None:
    req = {"method": "GET", "uri": "/p?q=drop+table+plans", "headers": [["Host", "Shop.Example"]]}
    clean = check_feedback("false_positive", req, None)
    assert clean.zone == "shop.example" and clean.request["uri"] == req["uri"]
    with pytest.raises(FeedbackError, match="names its vector"):
        check_feedback("false_negative", req, None)
    with pytest.raises(FeedbackError, match="label must be"):
        check_feedback("meh", req, None)
    with pytest.raises(FeedbackError, match="unknown field"):
        check_feedback("false_positive", {**req, "evil": 1}, None)
    with pytest.raises(FeedbackError, match="request:"):
        check_feedback("false_positive", {"uri": 5}, None)


def test_training_rows_from_marks() -> None:
    marks = [
        {"label": "false_positive", "request": {"uri": "/p?q=select+a+plan&x=1"}},
        {"label": "false_negative", "vector": "rce", "request": {"uri": "/t?h=a%7Cid"}},
        {"label": "false_positive", "request": {"uri": 3}},  # unusable: skipped
    ]
    rows = training_inputs(marks)
    labels = {(inp.location, label) for inp, label in rows}
    assert ("query:q", "clean") in labels and ("query:h", "rce") in labels
    logged: list[str] = []
    built = build_rows(None, TrainConfig(scale=0.002), logged.append, rows)
    fb = [i for i, s in enumerate(built.sources) if s == "feedback"]
    assert fb and all(built.weights[i] == TrainConfig().feedback_weight for i in fb)
    assert {built.labels[i] for i in fb} == {"clean", "rce"}
    assert any("feedback: " in m for m in logged)
