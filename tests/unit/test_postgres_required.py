"""CI must really run the PostgreSQL cases: with ESDEMO_REQUIRE_POSTGRES=1 a missing server fails them."""

from __future__ import annotations

import pytest
import store_factory
from store_factory import require_postgres


@pytest.fixture
def no_server(monkeypatch):
    monkeypatch.setattr(store_factory, "_postgres_problem", ["no PostgreSQL server: refused"])


def test_without_a_server_the_postgres_cases_skip_and_say_why(no_server, monkeypatch):
    monkeypatch.delenv(store_factory.REQUIRE_POSTGRES, raising=False)
    with pytest.raises(pytest.skip.Exception, match="no PostgreSQL server: refused"):
        require_postgres()


def test_under_esdemo_require_postgres_a_missing_server_is_a_failure(no_server, monkeypatch):
    monkeypatch.setenv(store_factory.REQUIRE_POSTGRES, "1")
    with pytest.raises(pytest.fail.Exception, match="ESDEMO_REQUIRE_POSTGRES=1 but no PostgreSQL server"):
        require_postgres()


def test_with_a_server_nothing_is_skipped(monkeypatch):
    monkeypatch.setattr(store_factory, "_postgres_problem", [""])
    monkeypatch.setenv(store_factory.REQUIRE_POSTGRES, "1")
    require_postgres()   # returns: the cases run
