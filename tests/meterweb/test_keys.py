"""The keypad codec: text or names in, panel keys out, or one typed refusal (Hypothesis)."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from stsgas.meterweb.desk import KEY_NAMES, MAX_KEYS, BadInput, parse_keys

PANEL = set(KEY_NAMES.values())
KEYPAD = "0123456789#*C"


@given(st.text(alphabet=KEYPAD, min_size=1, max_size=MAX_KEYS))
def test_keypad_text_is_one_key_per_character(text: str) -> None:
    """Every keypad character is one panel key, in order."""
    names = parse_keys(text)
    assert len(names) == len(text)
    assert names == [KEY_NAMES[c] for c in text]


@given(st.lists(st.sampled_from(sorted(KEY_NAMES)), min_size=1, max_size=MAX_KEYS))
def test_names_and_characters_say_the_same(keys: list[str]) -> None:
    """A list of names and characters maps one to one; as words in a string too."""
    assert parse_keys(keys) == [KEY_NAMES[k] for k in keys]
    assert parse_keys(" ".join(keys)) == [KEY_NAMES[k] for k in keys]


@given(st.one_of(st.text(max_size=80), st.lists(st.text(max_size=8), max_size=80), st.integers()))
def test_anything_else_is_keys_or_one_typed_refusal(keys: object) -> None:
    """Whatever a client sends, the answer is panel keys or BadInput with a known code."""
    names: list[str] = []
    code = ""
    try:
        names = parse_keys(keys)
    except BadInput as exc:
        code = exc.code
    if code:
        assert code in {"bad_key", "too_many_keys"}
    else:
        assert 1 <= len(names) <= MAX_KEYS
        assert set(names) <= PANEL
