"""The ``settings`` IR command's pair codec in stsgas.irproto: round trip and refusals."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from stsgas.irproto import SETTING_NAMES, FrameError, parse_settings, settings_text

_VALUE = st.text(
    alphabet="ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._-+/",
    min_size=1,
    max_size=30,
)
_PAIRS = st.lists(st.sampled_from(SETTING_NAMES), min_size=1, unique=True).flatmap(
    lambda names: st.tuples(*(st.tuples(st.just(n), _VALUE) for n in names))
)


def test_text_is_name_equals_value_joined_by_commas() -> None:
    """The wire form the vending system and the meter agree on."""
    pairs = [("overdraft", "5.000"), ("timezone", "Africa/Nairobi"), ("recharge_limit", "none")]
    text = settings_text(pairs)
    assert text == "overdraft=5.000,timezone=Africa/Nairobi,recharge_limit=none"
    assert parse_settings(text) == tuple(pairs)


@given(_PAIRS)
def test_roundtrip(pairs: tuple[tuple[str, str], ...]) -> None:
    """Whatever settings_text writes, parse_settings reads back in the same order."""
    assert parse_settings(settings_text(pairs)) == pairs


@given(st.text(max_size=60))
def test_parser_raises_only_frame_error(text: str) -> None:
    """Any text either parses to known names or is a FrameError, never another crash."""
    try:
        pairs = parse_settings(text)
    except FrameError:
        return
    assert all(name in SETTING_NAMES for name, _ in pairs)
    assert settings_text(pairs) == text


@pytest.mark.parametrize(
    "text",
    [
        "",
        "overdraft",
        "overdraft=",
        "colour=red",
        "overdraft=1,overdraft=2",
        "overdraft=1,",
        "overdraft=1 2",
        "overdraft=1=2",
        "timezone=Europe/Paris;x",
    ],
)
def test_malformed_text_refused(text: str) -> None:
    """Empty, unknown or repeated names and odd characters are refused as a frame error."""
    with pytest.raises(FrameError):
        parse_settings(text)


@pytest.mark.parametrize(
    "pairs",
    [[], [("colour", "red")], [("overdraft", "1"), ("overdraft", "2")], [("overdraft", "1,2")]],
)
def test_unsendable_pairs_refused(pairs: list[tuple[str, str]]) -> None:
    """The sender cannot build a command the meter would not parse."""
    with pytest.raises(FrameError):
        settings_text(pairs)


def test_names_match_the_contract() -> None:
    """Twelve stable names; the vending side signs the same ones."""
    assert len(SETTING_NAMES) == len(set(SETTING_NAMES)) == 12
    assert SETTING_NAMES[:2] == ("overdraft", "recharge_limit")
