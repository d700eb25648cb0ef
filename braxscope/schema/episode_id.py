"""EpisodeId: the one parser and formatter of episode ids.

An id names an episode within a store: ``"W:R"`` is catalog row R of the writer with ordinal W
(writers are numbered by start time, so ids stay stable as writers join), ``"R"`` alone means
writer 0, and ``"W:open-S"`` is the episode still being recorded in tracked slot S of writer W
(it gets a ``"W:R"`` id when it ends and is catalogued).
"""

from __future__ import annotations

from dataclasses import dataclass

from .errors import EpisodeNotFoundError

_OPEN = "open-"


class EpisodeIdError(EpisodeNotFoundError, ValueError):
    """Text that is not an episode id at all (``"abc"``, ``"1:x"``, ``"-3"``)."""


@dataclass(frozen=True)
class EpisodeId:
    """A parsed episode id: ``writer`` ordinal and either a catalog ``row`` or an open ``slot``."""

    writer: int
    row: int | None = None  # catalog row of a finished (or cut) episode
    slot: int | None = None  # tracked slot of an episode still in progress (row is None then)

    def __post_init__(self) -> None:
        if (self.row is None) == (self.slot is None) or self.writer < 0 or min(self.row or 0, self.slot or 0) < 0:
            raise EpisodeIdError(f"an episode id has a writer >= 0 and one row or open slot >= 0, got {self!r}")

    @classmethod
    def parse(cls, text: "str | int | EpisodeId") -> "EpisodeId":
        """``"W:R"``, ``"R"`` (writer 0), ``"W:open-S"``; raises :class:`EpisodeIdError`."""
        if isinstance(text, EpisodeId):
            return text
        s = str(text).strip()
        w, sep, r = s.partition(":")
        if not sep:
            w, r = "0", s
        try:
            if not w.isdigit():
                raise ValueError
            if r.startswith(_OPEN) and r[len(_OPEN):].isdigit():
                return cls(int(w), slot=int(r[len(_OPEN):]))
            if r.isdigit():
                return cls(int(w), row=int(r))
        except ValueError:
            pass
        raise EpisodeIdError(f"{s!r} is not an episode id: use W:R (writer, catalog row), R, or W:open-S "
                             "('braxscope info' lists them)")

    @property
    def is_open(self) -> bool:
        """True for the episode in progress of a tracked slot (``W:open-S``)."""
        return self.slot is not None

    def sort_key(self) -> tuple[int, int, int]:
        """Writer first, then catalogued rows in commit order, then the open episodes by slot."""
        return (self.writer, 1, self.slot) if self.is_open else (self.writer, 0, self.row)

    def __str__(self) -> str:
        return self.open_text(self.writer, self.slot) if self.is_open else self.row_text(self.writer, self.row)

    # The formatters without building an object: the reader names every catalog row with them.
    @staticmethod
    def row_text(writer: int, row: int) -> str:
        return f"{writer}:{row}"

    @staticmethod
    def open_text(writer: int, slot: int) -> str:
        return f"{writer}:{_OPEN}{slot}"


def ref_text(store: str | None, eid: str) -> str:
    """The reference to episode ``eid`` of store ``store`` (``"PATH:W:R"``); the plain id when
    ``store`` is None. :func:`split_ref` reads it back."""
    return eid if store is None else f"{store}:{eid}"


def split_ref(text: str) -> tuple[str | None, str]:
    """An episode reference that may name its store: ``"PATH:W:R"`` or ``"PATH:R"`` ->
    ``(PATH, "W:R")``; a plain id -> ``(None, id)``. The id is read from the right, so a path may
    hold colons. Raises :class:`EpisodeIdError` when no part of ``text`` is an id."""
    s = str(text).strip()
    try:
        return None, normalize(s)
    except EpisodeIdError:
        pass
    for parts in (2, 1):  # "PATH:W:R" first, then "PATH:R"
        bits = s.rsplit(":", parts)
        if len(bits) == parts + 1 and bits[0]:
            try:
                return bits[0], normalize(":".join(bits[1:]))
            except EpisodeIdError:
                continue
    raise EpisodeIdError(f"{s!r} is neither an episode id (W:R, R, W:open-S) nor a PATH:ID reference "
                         "(runs/a.zarr:0:3)")


def normalize(text: "str | int | EpisodeId") -> str:
    """The canonical text of an id (``"7"`` -> ``"0:7"``); raises :class:`EpisodeIdError`."""
    return str(EpisodeId.parse(text))


__all__ = ["EpisodeId", "EpisodeIdError", "normalize", "ref_text", "split_ref"]
