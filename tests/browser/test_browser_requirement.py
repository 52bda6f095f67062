"""Without Chromium the browser tests skip and say how to install it; where they are required
(`HAVEN_REQUIRE_BROWSER=1`, as .ci/run sets) the same is a failure."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.browser.conftest import missing, require_browser


def test_a_missing_chromium_is_named_with_how_to_install_it(tmp_path: Path) -> None:
    reason = missing(tmp_path / "chromium")
    assert reason is not None
    assert str(tmp_path / "chromium") in reason and "apt-get install -y chromium" in reason


def test_missing_is_a_skip_here_and_a_failure_where_required() -> None:
    with pytest.raises(pytest.skip.Exception, match="apt-get"):
        require_browser("Chromium is not at /x (apt-get install -y chromium)", required=False)
    with pytest.raises(pytest.fail.Exception, match="HAVEN_REQUIRE_BROWSER=1"):
        require_browser("Chromium is not at /x (apt-get install -y chromium)", required=True)
    require_browser(None, required=True)  # present: runs
