"""A number setting must be a finite number: ``nan`` and the infinities parse as floats, and
a crawl given ``-s DOWNLOAD_TIMEOUT=nan`` started and then failed every page."""

from pathlib import Path

import pytest

from pilotarchive.cli import main
from pilotarchive.settings import FLOAT_SETTINGS, known_settings

NOT_FINITE = ("nan", "NaN", "inf", "-inf", "Infinity", "1e999", "-1e999")


def number_settings() -> list[str]:
    """Every setting read as a number: a float or whole-number default, or a known float."""
    known = known_settings()
    return sorted(
        name
        for name, default in known.items()
        if name in FLOAT_SETTINGS
        or (isinstance(default, int | float) and not isinstance(default, bool))
    )


@pytest.mark.parametrize("value", NOT_FINITE)
def test_download_timeout_must_be_finite(value: str, tmp_path: Path, capsys) -> None:
    code = main(["crawl", "http://127.0.0.1:9/", "-o", str(tmp_path),
                 "-s", f"DOWNLOAD_TIMEOUT={value}"])  # fmt: skip
    err = capsys.readouterr().err
    assert code == 2, err
    assert err.strip() == (
        f"pilotarchive: -s setting DOWNLOAD_TIMEOUT={value!r}: expected a finite number "
        "(default 30)"
    )
    assert not (tmp_path / "snapshots").exists()


def test_every_number_setting_refuses_nan_and_infinity(tmp_path: Path, capsys) -> None:
    names = number_settings()
    some = {"DOWNLOAD_TIMEOUT", "DOWNLOAD_DELAY", "RETRY_TIMES", "PILOTARCHIVE_MAX_PAGES",
            "PILOTARCHIVE_PROGRESS_INTERVAL", "PILOTARCHIVE_BACKFILL_TIMEOUT"}  # fmt: skip
    assert some <= set(names)
    for name in names:
        for value in ("nan", "inf", "-1e999"):
            code = main(["crawl", "http://127.0.0.1:9/", "-o", str(tmp_path),
                         "-s", f"{name}={value}"])  # fmt: skip
            err = capsys.readouterr().err
            assert code == 2, (name, value, err)
            assert name in err and "expected a" in err, (name, value, err)


def test_a_config_file_number_must_be_finite(tmp_path: Path) -> None:
    """TOML has ``nan`` and ``inf`` literals: a target's settings are checked as -s is."""
    from pilotarchive.exceptions import PilotarchiveError
    from pilotarchive.schedule.config import load_config

    file = tmp_path / "pilotarchive.toml"
    for literal in ("nan", "inf", "-inf"):
        file.write_text(
            '[[target]]\nname = "pilots"\nstart_urls = ["http://127.0.0.1:9/"]\n'
            f'schedule = "0 6 * * *"\nsettings = {{ DOWNLOAD_TIMEOUT = {literal} }}\n',
            encoding="utf-8",
        )
        with pytest.raises(PilotarchiveError, match=r"DOWNLOAD_TIMEOUT.*finite number"):
            load_config(file, environ={})


def test_finite_numbers_still_pass() -> None:
    from pilotarchive.settings import check_overrides

    check_overrides({"DOWNLOAD_TIMEOUT": "2.5", "DOWNLOAD_DELAY": 0.0, "RETRY_TIMES": "3",
                     "AUTOTHROTTLE_MAX_DELAY": "1e3"})  # fmt: skip


@pytest.mark.parametrize(
    ("setting", "said"),
    [
        ("DOWNLOAD_TIMEOUT=-1", "expected a number above 0"),
        ("DOWNLOAD_TIMEOUT=0", "expected a number above 0"),
        ("CONCURRENT_REQUESTS=0", "expected a number above 0"),
        ("DOWNLOAD_DELAY=-0.5", "expected 0 or more"),
        ("DOWNLOAD_MAXSIZE=-1", "expected 0 or more"),
        ("RETRY_TIMES=-3", "expected 0 or more"),
        ("PILOTARCHIVE_BACKFILL_TIMEOUT=0", "expected a number above 0"),
    ],
)
def test_a_negative_or_zero_number_that_means_nothing_is_refused(
    setting: str, said: str, tmp_path: Path, capsys
) -> None:
    code = main(["crawl", "http://127.0.0.1:9/", "-o", str(tmp_path), "-s", setting])
    err = capsys.readouterr().err
    assert code == 2 and said in err and setting.split("=")[0] in err, err


def test_priorities_may_be_negative() -> None:
    from pilotarchive.settings import check_overrides

    check_overrides({"DEPTH_PRIORITY": "-1", "RETRY_PRIORITY_ADJUST": -2, "DOWNLOAD_DELAY": "0"})
