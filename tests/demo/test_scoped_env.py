"""`scoped_env` puts back exactly the variables it set, and no others."""

import os

from cdp_demo.env import scoped_env


def test_restores_only_what_it_set(monkeypatch):
    monkeypatch.setenv("CDP_T_KEPT", "old")
    monkeypatch.setenv("CDP_T_UNSET", "there")
    monkeypatch.delenv("CDP_T_NEW", raising=False)
    monkeypatch.delenv("CDP_T_LATER", raising=False)
    monkeypatch.setenv("CDP_T_OTHER", "a")
    with scoped_env({"CDP_T_KEPT": "new", "CDP_T_UNSET": None, "CDP_T_NEW": "1"}) as env:
        assert os.environ["CDP_T_KEPT"] == "new"
        assert "CDP_T_UNSET" not in os.environ
        env.set("CDP_T_LATER", "2")
        env.set("CDP_T_KEPT", "newer")  # the first value is the one put back
        os.environ["CDP_T_OTHER"] = "b"  # not set through the scope: left alone
    assert os.environ["CDP_T_KEPT"] == "old"
    assert os.environ["CDP_T_UNSET"] == "there"
    assert "CDP_T_NEW" not in os.environ and "CDP_T_LATER" not in os.environ
    assert os.environ["CDP_T_OTHER"] == "b"


def test_restores_after_an_error(monkeypatch):
    monkeypatch.setenv("CDP_T_KEPT", "old")
    try:
        with scoped_env({"CDP_T_KEPT": "new"}):
            raise RuntimeError("boom")
    except RuntimeError:
        pass
    assert os.environ["CDP_T_KEPT"] == "old"
