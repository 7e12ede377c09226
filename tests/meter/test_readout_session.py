"""The optical port's 62056-21 session: sign-on, login, refusals, replay, STX frames beside it."""

from __future__ import annotations

from datetime import timedelta

from stsgas.irproto import decode_frame, encode_frame, mac_for
from stsgas.meter.readout_codec import (
    ACK,
    NAK,
    SIGN_ON,
    command_message,
    parse_block,
    parse_command,
)  # fmt: skip
from stsgas.meter.readout_session import IDENT, SESSION_TIMEOUT, OpticalPort, Phase

from .readout_support import T0, key_of, login, make, read, readout_json

NOW = T0 + timedelta(hours=1)
KEY = key_of(readout_json())


def _events(port: OpticalPort) -> list[str]:
    return [str(e.kind) for e in port.meter.event_log.entries]


def test_sign_on_answers_the_identification_and_addressed_sign_on_filters() -> None:
    """``/?!`` and ``/?<this meter's number>!`` get the identification; another meter's
    number gets silence (a bus of meters: only the addressed one answers)."""
    port = OpticalPort(make(), switch_over=0)
    assert port.receive_ir(SIGN_ON, NOW) == IDENT
    assert port.receive_ir(b"/?600727000000000009!\r\n", NOW) == IDENT
    assert port.receive_ir(b"/?12345!\r\n", NOW) is None
    assert port.phase is Phase.IDLE


def test_right_key_logs_in_and_spends_the_counter() -> None:
    """The P0 seed is the next IR counter; the right MAC is acknowledged and spends it."""
    port = OpticalPort(make(), switch_over=0)
    assert port.meter.lockout.ir_seq == 0
    assert login(port, KEY, NOW) == ACK
    assert port.phase is Phase.PROGRAMMING
    assert port.meter.lockout.ir_seq == 1


def test_wrong_key_is_refused_and_logged_and_reads_nothing() -> None:
    """A MAC under another key: NAK, ``readout_refused`` in the log, the session over;
    a read after it gets no history."""
    port = OpticalPort(make(), switch_over=0)
    assert login(port, bytes(8), NOW) == NAK
    assert port.phase is Phase.IDLE
    assert _events(port)[-1] == "readout_refused"
    assert port.meter.lockout.ir_seq == 0
    assert port.receive_ir(command_message("R", "1", "P.02()"), NOW) is None


def test_recorded_password_cannot_be_replayed() -> None:
    """The P1 of an earlier session sent again after a new sign-on is refused: the seed
    moved on when the first login spent it."""
    port = OpticalPort(make(), switch_over=0)
    port.receive_ir(SIGN_ON, NOW)
    request = port.receive_ir(ACK + b"051\r\n", NOW)
    assert isinstance(request, bytes)
    seed = (parse_command(request)[2] or "").strip("()")
    recorded = command_message(
        "P", "1", f"({mac_for(KEY, f'readout {port.meter.key.pan} {seed}')})"
    )
    assert port.receive_ir(recorded, NOW) == ACK
    port.receive_ir(command_message("B", "0"), NOW)
    port.receive_ir(SIGN_ON, NOW)
    port.receive_ir(ACK + b"051\r\n", NOW)
    assert port.receive_ir(recorded, NOW) == NAK
    assert _events(port)[-1] == "readout_refused"


def test_signed_ir_command_between_seed_and_answer_voids_the_seed() -> None:
    """A signed STX command that takes the shared counter after the seed was given makes
    that seed's answer stale: refused."""
    port = OpticalPort(make(), switch_over=0)
    port.receive_ir(SIGN_ON, NOW)
    request = port.receive_ir(ACK + b"051\r\n", NOW)
    assert isinstance(request, bytes)
    seed = (parse_command(request)[2] or "").strip("()")
    payload = f"clear_tamper {seed}"
    reply = port.receive_ir(encode_frame(f"{payload} {mac_for(KEY, payload)}"), NOW)
    assert reply is not None
    answer = mac_for(KEY, f"readout {port.meter.key.pan} {seed}")
    assert port.receive_ir(command_message("P", "1", f"({answer})"), NOW) == NAK


def test_reads_need_a_login_and_a_break_ends_the_session() -> None:
    """Without programming mode a read gets nothing; after B0 neither."""
    port = OpticalPort(make(), switch_over=0)
    assert port.receive_ir(command_message("R", "1", "7-0:128.1.1()"), NOW) is None
    assert login(port, KEY, NOW) == ACK
    assert parse_block(read(port, "7-0:128.1.1", NOW)) == ["7-0:128.1.1(2.000*m3)"]
    assert parse_block(read(port, "9-9:9.9.9", NOW)) == ["(ERROR)"]
    assert port.receive_ir(command_message("B", "0"), NOW) is None
    assert port.receive_ir(command_message("R", "1", "7-0:128.1.1()"), NOW) is None


def test_idle_session_times_out() -> None:
    """Programming mode left quiet past the timeout is over: a read then gets nothing."""
    port = OpticalPort(make(), switch_over=0)
    assert login(port, KEY, NOW) == ACK
    later = NOW + SESSION_TIMEOUT + timedelta(seconds=1)
    assert port.receive_ir(command_message("R", "1", "P.02()"), later) is None


def test_bad_bcc_gets_nak_and_nak_repeats_the_last_answer() -> None:
    """A command with a broken check character is NAKed; a NAK from the reader gets the
    last answer again (62056-21's repeat request)."""
    port = OpticalPort(make(), switch_over=0)
    assert login(port, KEY, NOW) == ACK
    good = command_message("R", "1", "7-0:128.1.8()")
    assert port.receive_ir(good[:-1] + bytes([good[-1] ^ 1]), NOW) == NAK
    answer = port.receive_ir(good, NOW)
    assert port.receive_ir(NAK, NOW) == answer


def test_stx_frames_still_reach_the_meter() -> None:
    """Today's IR frames work through the same port, before and during a session."""
    port = OpticalPort(make(), switch_over=0)
    events = port.receive_ir(encode_frame("query 06"), NOW)
    reply = getattr(events, "reply", None)
    assert reply is not None
    assert decode_frame(reply) == "ok 600727000000000009"
    assert login(port, KEY, NOW) == ACK
    events = port.receive_ir(encode_frame("seq"), NOW)
    assert decode_frame(getattr(events, "reply", b"")) == "ok seq 1"


def test_option_select_for_another_speed_or_mode_is_ignored() -> None:
    """An option select the meter does not offer (another baud, mode 2) ends the sign-on."""
    port = OpticalPort(make(), switch_over=0)
    port.receive_ir(SIGN_ON, NOW)
    assert port.receive_ir(ACK + b"040\r\n", NOW) is None
    port.receive_ir(SIGN_ON, NOW)
    assert port.receive_ir(ACK + b"052\r\n", NOW) is None
    assert port.phase is Phase.IDLE


def test_wake_up_nuls_are_ignored_and_noise_gets_the_frame_error() -> None:
    """NULs (a battery meter's wake-up from a reader) get no answer; other noise gets
    the IR side's ``err frame`` as before."""
    port = OpticalPort(make(), switch_over=0)
    assert port.receive_ir(b"\x00\x00\x00", NOW) is None
    events = port.receive_ir(b"xyz", NOW)
    assert decode_frame(getattr(events, "reply", b"")).startswith("err frame")


def test_guessing_locks_logins_and_logs_one_entry() -> None:
    """Wrong passwords in a row are one ``readout_refused`` entry (guessing cannot push
    older events out of the log); after three, even the right key is refused for ten
    minutes; then it logs in, and the next wrong one is logged again."""
    m = make()
    m.magnet(True, NOW - timedelta(minutes=1))
    port = OpticalPort(m, switch_over=0)
    for i in range(5):
        assert login(port, bytes(8), NOW + timedelta(seconds=i)) == NAK
    assert _events(port)[-2:] == ["magnetic_interference", "readout_refused"]
    assert login(port, KEY, NOW + timedelta(minutes=5)) == NAK
    assert login(port, KEY, NOW + timedelta(minutes=11)) == ACK
    assert port.meter.lockout.ir_seq == 1
    port.receive_ir(command_message("B", "0"), NOW + timedelta(minutes=11))
    m.power(False, NOW + timedelta(minutes=12))
    m.power(True, NOW + timedelta(minutes=13))
    assert login(port, bytes(8), NOW + timedelta(minutes=14)) == NAK
    assert _events(port)[-1] == "readout_refused"
    assert _events(port).count("readout_refused") == 2
