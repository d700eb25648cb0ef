"""The schema's value types for episodes: EpisodeId (parse, format, open/closed), Frames, and the
status words and ages every view uses."""

from __future__ import annotations

import numpy as np
import pytest

from braxscope.schema import EpisodeId, EpisodeIdError, EpisodeInfo, Frames
from braxscope.schema.errors import EpisodeNotFoundError
from braxscope.schema.status import STATUSES, episode_status, format_age


@pytest.mark.parametrize("text, writer, row, slot, canonical", [
    ("0:7", 0, 7, None, "0:7"), ("7", 0, 7, None, "0:7"), (7, 0, 7, None, "0:7"), ("12:345", 12, 345, None, "12:345"),
    ("1:open-3", 1, None, 3, "1:open-3"), ("open-2", 0, None, 2, "0:open-2"), (" 2:5 ", 2, 5, None, "2:5"),
])
def test_episode_ids_parse_and_format_back_to_their_canonical_text(text, writer, row, slot, canonical):
    eid = EpisodeId.parse(text)
    assert (eid.writer, eid.row, eid.slot) == (writer, row, slot)
    assert eid.is_open == (slot is not None)
    assert str(eid) == canonical and EpisodeId.parse(str(eid)) == eid


@pytest.mark.parametrize("text", ["", "abc", "1:x", "-3", "1:-2", "1:open-", "1:open-x", "a:1", "1:2:3", "1.5"])
def test_text_that_is_not_an_id_is_a_one_line_error_of_its_own_type(text):
    with pytest.raises(EpisodeIdError) as e:
        EpisodeId.parse(text)
    assert isinstance(e.value, EpisodeNotFoundError) and isinstance(e.value, ValueError)
    assert "\n" not in str(e.value) and "W:R" in str(e.value)


def test_ids_sort_by_writer_then_catalog_rows_then_open_slots():
    ids = ["1:open-0", "0:10", "1:2", "0:open-1", "0:2", "0:open-0"]
    assert sorted(ids, key=lambda t: EpisodeId.parse(t).sort_key()) == [
        "0:2", "0:10", "0:open-0", "0:open-1", "1:2", "1:open-0"]


def test_an_id_has_exactly_one_of_row_and_slot():
    with pytest.raises(EpisodeIdError):
        EpisodeId(0)
    with pytest.raises(EpisodeIdError):
        EpisodeId(0, row=1, slot=1)


def _frames(n: int, start: float = 0.0) -> Frames:
    return Frames(qpos=np.full((n, 3), start, np.float32), qvel=np.zeros((n, 2), np.float32),
                  action=np.zeros((n, 1), np.float32), reward=np.arange(n, dtype=np.float32) + start,
                  done=np.zeros(n, np.uint8), env_step=np.arange(n, dtype=np.int64),
                  iteration=np.zeros(n, np.int32), wall_time=np.zeros(n))


def test_frames_hold_done_as_bool_default_flags_and_concatenate():
    a, b = _frames(3), _frames(2, 10.0)
    assert a.done.dtype == np.bool_ and a.flags.dtype == np.uint8 and len(a) == 3
    ab = a.concat(b)
    assert len(ab) == 5 and ab.reward.tolist() == [0, 1, 2, 10, 11] and ab.qpos.shape == (5, 3)
    assert ab.nbytes == a.nbytes + b.nbytes


def test_frames_refuse_columns_of_different_lengths():
    f = _frames(3)
    with pytest.raises(ValueError, match="same length"):
        Frames(f.qpos, f.qvel, f.action, f.reward[:2], f.done, f.env_step, f.iteration, f.wall_time)


def _info(**kw) -> EpisodeInfo:
    base = dict(id="0:0", writer="w", source="train", slot=0, env_id=0, device=0, iteration=0, env_step=0, start=0,
                length=5, ret=1.0, complete=True, wall_time=0.0, in_progress=False)
    return EpisodeInfo(**{**base, **kw})


def test_status_words_are_one_vocabulary():
    assert episode_status(_info()) == "done"
    assert episode_status(_info(complete=False)) == "cut"
    assert episode_status(_info(in_progress=True, complete=False)) == "recording"
    assert episode_status(_info(), damaged=True) == "damaged"
    assert STATUSES == ("done", "cut", "recording", "damaged")


@pytest.mark.parametrize("seconds, text", [(0.2, "<1 s"), (42.4, "42 s"), (300, "5 min"), (3 * 3600, "3.0 h"),
                                           (float("inf"), "never"), (float("nan"), "never")])
def test_ages_read_the_same_everywhere(seconds, text):
    assert format_age(seconds) == text


def test_the_reader_finds_episodes_by_any_form_of_their_id(tmp_path):
    from tests.replay_app.storegen import make_store

    from braxscope.schema import open_store

    r = open_store(make_store(tmp_path / "s.zarr", name="inverted_pendulum", iterations=1, slots=1, episode_len=10))
    assert r.get_episode("0").id == r.get_episode("0:0").id == "0:0"
    for bad in ("zzz", "0:99", "5:0"):
        with pytest.raises(EpisodeNotFoundError):
            r.get_episode(bad)
