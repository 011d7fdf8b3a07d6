"""AppTest helpers: a fresh app per test on the seeded database, and signing in through the real form."""
from __future__ import annotations

import pytest
from streamlit.testing.v1 import AppTest

from lib.config import ROOT

APP_TIMEOUT_S = 60  # one script run may take this long (first runs compile every module)


def sign_in(app: AppTest, username: str, password: str) -> AppTest:
    """Fill in and submit the login form, then return the app after the rerun."""
    app.text_input[0].input(username)
    app.text_input[1].input(password)
    app.button[0].click()
    return app.run()


@pytest.fixture
def app(database_url: str) -> AppTest:
    """The app, freshly started and showing its login form."""
    fresh = AppTest.from_file(str(ROOT / "Home.py"), default_timeout=APP_TIMEOUT_S)
    fresh.run()
    assert not fresh.exception, fresh.exception
    return fresh
