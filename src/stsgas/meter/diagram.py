"""The valve machine and the entry lockout drawn from the tables that run them.

``stsgas meter diagram`` prints these as Mermaid, so the picture in the docs
is generated from ``_state`` and cannot drift from the code.
"""

from __future__ import annotations

from stsgas.meter import _state as S  # noqa: N812 -- the tables read as S.X

__all__ = ["lockout_table", "valve_mermaid"]


def valve_mermaid() -> str:
    """``VALVE_TABLE`` as a Mermaid state diagram: one edge per (state, input)."""
    lines = ["stateDiagram-v2", "    [*] --> closed: boot (reason power)"]
    for (state, inp), (nxt, reason) in S.VALVE_TABLE.items():
        label = inp.value if reason is None else f"{inp.value} / reason {reason}"
        lines.append(f"    {state.value} --> {nxt.value}: {label}")
    lines.append(
        "    note right of closed\n"
        "        open_key opens only with power on, battery above level 2,\n"
        "        no tamper or gas-safety lock and credit above zero (the rules in _state)\n"
        "    end note"
    )
    return "\n".join(lines)


def lockout_table(bad_entries: int = 10) -> str:
    """Seconds of entry lockout after each consecutive bad entry."""
    rows = ["bad entries  lockout s"]
    rows += [f"{n:>11}  {S.lockout_seconds(n):>9}" for n in range(1, bad_entries + 1)]
    return "\n".join(rows)
