"""control.json is input from another machine: every field is checked, and a file that is not the
documented document is refused as a whole (ControlFileError), or read as the defaults."""

from __future__ import annotations

import pytest

from braxscope.schema.control import DEFAULT, ControlFileError, parse_control, read_control, write_control

MALFORMED = {
    "the issue's repro (wrong types)": b'{"recording": "yes", "track": ["a"], "updated": "soon"}',
    "a list instead of an object": b'[{"recording": false}]',
    "garbage": b"\x00\xffnot json at all",
    "empty": b"",
    "recording as a number": b'{"recording": 0}',
    "track of booleans": b'{"track": [true, false]}',
    "negative env index": b'{"track": [-1]}',
    "track as a string": b'{"track": "0,1"}',
    "updated not finite": b'{"updated": NaN}',
    "updated as a boolean": b'{"updated": true}',
}


@pytest.mark.parametrize("raw", MALFORMED.values(), ids=MALFORMED.keys())
def test_malformed_control_is_refused_by_name(raw):
    with pytest.raises(ControlFileError) as e:
        parse_control(raw)
    assert "control.json" in str(e.value) and "\n" not in str(e.value)


def test_valid_control_parses_and_missing_fields_take_defaults():
    assert parse_control(b'{"recording": false, "track": [0, 5], "updated": 12}') == {
        "recording": False, "track": [0, 5], "updated": 12.0}
    assert parse_control(b"{}") == DEFAULT


def test_read_control_gives_defaults_for_malformed_or_absent_and_strict_raises(tmp_path):
    assert read_control(tmp_path) == DEFAULT
    (tmp_path / "control.json").write_bytes(MALFORMED["the issue's repro (wrong types)"])
    assert read_control(tmp_path) == DEFAULT
    with pytest.raises(ControlFileError):
        read_control(tmp_path, strict=True)


def test_write_control_replaces_a_malformed_file(tmp_path):
    (tmp_path / "control.json").write_bytes(b"[1, 2]")
    doc = write_control(tmp_path, recording=False)
    assert read_control(tmp_path, strict=True) == doc and doc["recording"] is False and doc["track"] is None
