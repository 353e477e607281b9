"""The frame codec: what it accepts, and the error each bad frame gets."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from parley.realtime import codec


def test_a_send_frame_parses_to_its_fields() -> None:
    frame = codec.parse_frame('{"type":"send","room_id":3,"body":"hi","client_id":"c1"}')
    assert frame == codec.Send(
        room_id=3, body="hi", client_id="c1", attachments=None, reply_to=None
    )


def test_room_ids_may_come_as_digit_strings() -> None:
    frame = codec.parse_frame('{"type":"typing","room_id":"12"}')
    assert frame == codec.Typing(12)


def test_resume_cursors_become_integer_keys() -> None:
    assert codec.parse_frame('{"type":"resume","cursors":{"4":10,"5":0}}') == codec.Resume(
        {4: 10, 5: 0}
    )


@pytest.mark.parametrize(
    ("raw", "code"),
    [
        ("{", "invalid_json"),
        ("null", "invalid_frame"),
        ('{"type": 5}', "invalid_frame"),
        ('{"type": "fly"}', "unknown_type"),
        ('{"type": "send", "room_id": true, "client_id": "c", "body": "b"}', "invalid_room_id"),
        ('{"type": "send", "room_id": 0, "client_id": "c", "body": "b"}', "invalid_room_id"),
        ('{"type": "send", "room_id": 1, "client_id": "", "body": "b"}', "invalid_client_id"),
        ('{"type": "send", "room_id": 1, "client_id": "c", "body": 5}', "invalid_body"),
        (
            '{"type": "send", "room_id": 1, "client_id": "c", "body": "b", "attachments": [1]}',
            "invalid_attachments",
        ),
        ('{"type": "resume", "cursors": {"x": 1}}', "invalid_cursors"),
        ('{"type": "resume", "cursors": {"1": -1}}', "invalid_cursors"),
        ('{"type": "read", "room_id": 1, "seq": "3"}', "invalid_seq"),
    ],
)
def test_bad_frames_raise_the_matching_error(raw: str, code: str) -> None:
    with pytest.raises(codec.FrameError) as info:
        codec.parse_frame(raw)
    assert info.value.code == code


def test_errors_of_a_send_carry_its_client_id_as_ref() -> None:
    with pytest.raises(codec.FrameError) as info:
        codec.parse_frame('{"type":"send","room_id":-1,"body":"x","client_id":"mine"}')
    assert info.value.ref == "mine"


def test_oversized_frames_are_refused_before_parsing() -> None:
    with pytest.raises(codec.FrameError) as info:
        codec.parse_frame('{"type":"ping","pad":"' + "x" * codec.MAX_FRAME_BYTES + '"}')
    assert info.value.code == "frame_too_large"


def test_too_many_rooms_in_one_resume_is_refused() -> None:
    cursors = ",".join(f'"{i}":0' for i in range(1, codec.MAX_RESUME_ROOMS + 2))
    with pytest.raises(codec.FrameError) as info:
        codec.parse_frame('{"type":"resume","cursors":{' + cursors + "}}")
    assert info.value.code == "too_many_rooms"


def test_binary_frames_are_refused() -> None:
    with pytest.raises(codec.FrameError) as info:
        codec.parse_frame(b'{"type":"ping"}')
    assert info.value.code == "binary_not_supported"


@given(st.text(max_size=300))
def test_any_text_either_parses_or_raises_a_frame_error(text: str) -> None:
    try:
        codec.parse_frame(text)
    except codec.FrameError as exc:
        assert exc.code
        assert exc.message


_SEND = '{"type":"send","room_id":%s,"body":"b","client_id":"c"%s}'


@pytest.mark.parametrize(
    ("raw", "code"),
    [
        # Issue 18, item 7: other scripts' digits passed str.isdigit and then int() raised.
        ('{"type": "typing", "room_id": "²"}', "invalid_room_id"),
        ('{"type": "typing", "room_id": "٣"}', "invalid_room_id"),
        ('{"type": "typing", "room_id": "\uff13"}', "invalid_room_id"),  # full-width 3
        (_SEND % ('"¹"', ""), "invalid_room_id"),
        ('{"type": "read", "room_id": "²", "seq": 1}', "invalid_room_id"),
        ('{"type": "resume", "cursors": {"²": 1}}', "invalid_cursors"),
        ('{"type": "resume", "cursors": {"٣": 1}}', "invalid_cursors"),
        # Past the store's range (PostgreSQL's INTEGER): refused here, not by the database.
        ('{"type": "resume", "cursors": {"1": 2147483648}}', "invalid_cursors"),
        ('{"type": "resume", "cursors": {"2147483648": 1}}', "invalid_cursors"),
        ('{"type": "read", "room_id": 1, "seq": 2147483648}', "invalid_seq"),
        ('{"type": "typing", "room_id": 2147483648}', "invalid_room_id"),
        (_SEND % ("1", ', "reply_to": 2147483648'), "invalid_reply_to"),
        ('{"type": "resume", "cursors": {"1": 9223372036854775808}}', "invalid_cursors"),
        ('{"type": "resume", "cursors": {"9223372036854775808": 1}}', "invalid_cursors"),
        ('{"type": "read", "room_id": 1, "seq": 9223372036854775808}', "invalid_seq"),
        ('{"type": "typing", "room_id": 9223372036854775808}', "invalid_room_id"),
        ('{"type": "typing", "room_id": "9223372036854775808"}', "invalid_room_id"),
        (_SEND % ("1", ', "reply_to": 9223372036854775808'), "invalid_reply_to"),
        (_SEND % ("1", ', "reply_to": 1.0'), "invalid_reply_to"),
        (_SEND % ("1", ', "reply_to": "7"'), "invalid_reply_to"),
        (_SEND % ("1.5", ""), "invalid_room_id"),
        (_SEND % ('" 1"', ""), "invalid_room_id"),
        (_SEND % ('"-1"', ""), "invalid_room_id"),
    ],
)
def test_integers_are_ascii_digits_within_the_store_s_range(raw: str, code: str) -> None:
    with pytest.raises(codec.FrameError) as info:
        codec.parse_frame(raw)
    assert info.value.code == code


def test_the_largest_values_in_the_store_s_range_still_parse() -> None:
    top = 2**31 - 1
    assert codec.parse_frame(f'{{"type":"resume","cursors":{{"{top}":{top}}}}}') == (
        codec.Resume({top: top})
    )
    assert codec.parse_frame(_SEND % (top, f', "reply_to": {top}')) == codec.Send(
        top, "b", "c", None, top
    )
