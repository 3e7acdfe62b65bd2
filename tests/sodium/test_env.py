from __future__ import annotations

import os
from unittest import mock

import pytest
from django.core.exceptions import ImproperlyConfigured

from sodium import env


class TestEnvHelpers:
    def test_booleans_accept_words_and_refuse_nonsense(self) -> None:
        with mock.patch.dict(os.environ, {"X_FLAG": "yes"}):
            assert env.env_bool("X_FLAG", default=False) is True
        with mock.patch.dict(os.environ, {"X_FLAG": "off"}):
            assert env.env_bool("X_FLAG", default=True) is False
        with mock.patch.dict(os.environ, {"X_FLAG": "maybe"}), pytest.raises(ImproperlyConfigured):
            env.env_bool("X_FLAG", default=True)

    def test_a_required_string_must_be_set(self) -> None:
        with mock.patch.dict(os.environ, {}, clear=True), pytest.raises(ImproperlyConfigured):
            env.env_str("X_REQUIRED")

    def test_integers_are_checked(self) -> None:
        with mock.patch.dict(os.environ, {"X_N": "12"}):
            assert env.env_int("X_N", 1) == 12
        with mock.patch.dict(os.environ, {"X_N": "twelve"}), pytest.raises(ImproperlyConfigured):
            env.env_int("X_N", 1)

    def test_lists_split_on_commas(self) -> None:
        with mock.patch.dict(os.environ, {"X_L": "a.example, b.example,,"}):
            assert env.env_list("X_L", []) == ["a.example", "b.example"]

    def test_dotenv_never_overrides_the_real_environment(self, tmp_path) -> None:
        path = tmp_path / ".env"
        path.write_text("# comment\nX_DOT=from-file\nX_REAL=from-file\n")
        with mock.patch.dict(os.environ, {"X_REAL": "real"}):
            env.load_dotenv(path)
            assert os.environ["X_DOT"] == "from-file"
            assert os.environ["X_REAL"] == "real"
            del os.environ["X_DOT"]

    def test_a_generated_secret_is_kept_for_the_next_start(self, tmp_path) -> None:
        path = tmp_path / ".env"
        with mock.patch.dict(os.environ, {}, clear=True):
            first = env.ensure_dotenv_secret(path, "X_SECRET")
            assert len(first) >= 50
        with mock.patch.dict(os.environ, {}, clear=True):
            env.load_dotenv(path)
            assert env.ensure_dotenv_secret(path, "X_SECRET") == first

    def test_prefixed_variables_become_a_dict(self) -> None:
        with mock.patch.dict(os.environ, {"ANYMAIL_POSTMARK_SERVER_TOKEN": "t"}):
            assert env.env_prefixed("ANYMAIL_")["POSTMARK_SERVER_TOKEN"] == "t"
