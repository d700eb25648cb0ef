"""The episode catalog as numpy columns: queries are array operations over every writer's rows.

A :class:`Catalog` is an immutable snapshot of the catalog of every writer (oldest writer first,
each in commit order), plus each writer's open episodes (one per tracked slot that is mid-episode,
after that writer's catalog rows). Filtering and sorting work on the columns; an
:class:`EpisodeInfo` is built only for a row that is asked for (``selection[i]``), so a million
episodes cost their columns (about 60 bytes each) and no Python object per episode.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace

import numpy as np

from . import layout
from .episode_id import EpisodeId, EpisodeIdError, ref_text, split_ref

@dataclass(frozen=True)
class EpisodeInfo:
    """One catalog row, or (``in_progress``) the still-open episode of a tracked slot."""

    id: str  # "W:R": writer ordinal and catalog row; "W:open-S" for slot S's open episode (EpisodeId)
    writer: str
    source: str  # "train" | "snapshot"
    slot: int
    env_id: int
    device: int
    iteration: int
    env_step: int  # global env step at the episode's first row
    start: int  # first row in the writer's train or snapshots stream
    length: int
    ret: float
    complete: bool  # from a reset to done (train) or the rollout's full length (snapshot)
    wall_time: float
    in_progress: bool = False

    @property
    def stream(self) -> str:
        return layout.SNAPSHOTS if self.source == "snapshot" else layout.TRAIN


# Query columns: the catalog's own, plus "in_progress" (an open episode, not a catalog row yet).
COLUMNS = tuple(c.name for c in layout.CATALOG_COLUMNS) + ("in_progress",)

# Sort keys of :meth:`Catalog.query`. "env" orders by source, then env; "id" is catalog order.
SORT_KEYS = ("id", "source", "env", "writer", "slot", "iteration", "env_step", "start", "length", "return",
             "complete", "wall_time")

# Source names sort alphabetically ("snapshot" < "train"), as a list of EpisodeInfo sorts them.
_SOURCE_RANK = np.array([1, 0] + [2] * 254, np.int64)  # code -> rank: train 1, snapshot 0, unknown 2


@dataclass(frozen=True)
class _Block:
    """Rows of one writer: its catalog rows [0, n) (``open_rows`` False) or its open episodes."""

    ordinal: int
    writer: str
    cols: dict  # column name -> np.ndarray [n] (views of the reader's buffers: never written again)
    n: int
    open_rows: bool
    valid: np.ndarray | None  # bool [n]: False for a damaged row's placeholder; None when all are valid
    # In a catalog of several stores (Catalog.merge): the store its ids name ("PATH:W:R") and
    # the writer's ordinal in that store (``ordinal`` is then unique across the stores).
    store: str | None = None
    local: int = -1

    @property
    def id_ordinal(self) -> int:
        """The writer number its episode ids carry: its ordinal in its own store."""
        return self.ordinal if self.store is None else self.local


class Catalog:
    """Every episode of a store, as columns. Get one from :meth:`StoreReader.catalog`.

    Positions (``0 .. rows-1``) number the rows of this snapshot in catalog order; a damaged
    catalog chunk's rows hold positions but never appear in a query. A later snapshot keeps every
    position of an earlier one as long as no writer joins and open episodes are not asked for."""

    def __init__(self, blocks: list[_Block]):
        self._blocks = blocks
        self._offsets = np.cumsum([0] + [b.n for b in blocks]).astype(np.int64)
        self.rows = int(self._offsets[-1])
        self._concat: dict[str, np.ndarray] = {}
        self._len: int | None = None

    # Writer ordinals of a merged catalog: store ``i``'s writer ``w`` is ``i * STORE_STRIDE + w``.
    STORE_STRIDE = 1 << 16

    @classmethod
    def merge(cls, parts: Sequence[tuple[str, "Catalog"]]) -> "Catalog":
        """One catalog over several stores' catalogs, ``(store reference, catalog)`` each, in that
        order. Every id names its store (``"PATH:W:R"``, W the writer's ordinal in its own store:
        :func:`episode_id.split_ref` reads it); the ``writer`` column and ordinals are
        ``store index * STORE_STRIDE + ordinal``, so they stay put as writers join a store."""
        blocks = []
        for i, (store, cat) in enumerate(parts):
            for b in cat._blocks:
                local = b.id_ordinal
                blocks.append(replace(b, ordinal=i * cls.STORE_STRIDE + local, store=str(store), local=local))
        return cls(blocks)

    def __len__(self) -> int:
        """Episodes in the snapshot (catalog rows that are not damaged, and open episodes)."""
        if self._len is None:
            self._len = sum(b.n if b.valid is None else int(b.valid.sum()) for b in self._blocks)
        return self._len

    # ------------------------------------------------------------ columns

    def column(self, name: str) -> np.ndarray:
        """One column over every row of the snapshot, in position order (a cached concatenation)."""
        if name not in self._concat:
            parts = [self._block_col(b, name) for b in self._blocks]
            self._concat[name] = np.concatenate(parts) if parts else np.empty(0, self._dtype(name))
        return self._concat[name]

    def _dtype(self, name: str):
        if name in ("in_progress", "valid"):
            return np.bool_
        if name == "writer":
            return np.int32
        return next(np.dtype(c.dtype) for c in layout.CATALOG_COLUMNS if c.name == name)

    def _block_col(self, b: _Block, name: str) -> np.ndarray:
        if name == "in_progress":
            return np.full(b.n, b.open_rows)
        if name == "writer":
            return np.full(b.n, b.ordinal, np.int32)
        if name == "valid":
            return np.ones(b.n, bool) if b.valid is None else b.valid
        try:
            return b.cols[name]
        except KeyError:
            raise KeyError(f"no catalog column {name!r}; columns: {', '.join(COLUMNS)}") from None

    # ------------------------------------------------------------ queries

    def query(self, *, source: str | None = None, env: int | Iterable[int] | None = None,
              writer: int | str | None = None, iteration: tuple | None = None, ret: tuple | None = None,
              complete: bool | None = None, in_progress: bool = False, sort: str = "id",
              descending: bool = False) -> "Selection":
        """The episodes that match every given condition, sorted.

        ``source`` "train" or "snapshot"; ``env`` one env id or several; ``writer`` an ordinal
        or a writer id; ``iteration`` and ``ret`` inclusive ``(lo, hi)`` bounds, either may be
        None (an episode whose return is NaN fails any return bound); ``complete`` True/False;
        ``in_progress`` also lists each writer's open episodes. ``sort`` is one of
        :data:`SORT_KEYS` ("id": catalog order); ties keep catalog order, descending too."""
        if source is not None and source not in layout.SOURCE_NAMES.values():
            raise ValueError(f"source must be one of {sorted(layout.SOURCE_NAMES.values())}, not {source!r}")
        code = None if source is None else next(k for k, v in layout.SOURCE_NAMES.items() if v == source)
        envs = None if env is None else np.atleast_1d(np.asarray(list(env) if not np.isscalar(env) else env))
        ordinal = self._ordinal_of(writer)
        parts = []
        for b, off in zip(self._blocks, self._offsets[:-1].tolist()):
            if (b.open_rows and not in_progress) or (ordinal is not None and b.ordinal != ordinal) or b.n == 0:
                continue
            c = b.cols
            mask = np.ones(b.n, bool) if b.valid is None else b.valid.copy()
            if code is not None:
                mask &= c["source"] == code
            if envs is not None:
                mask &= np.isin(c["env_id"], envs)
            # Comparisons with NaN are False: a NaN return fails any bound.
            for name, bounds in (("iteration", iteration), ("return", ret)):
                lo, hi = bounds if bounds is not None else (None, None)
                if lo is not None:
                    mask &= c[name] >= lo
                if hi is not None:
                    mask &= c[name] <= hi
            if complete is not None:
                mask &= (c["complete"] != 0) == bool(complete)
            parts.append(np.flatnonzero(mask) + off)
        pos = np.concatenate(parts) if parts else np.empty(0, np.int64)
        return Selection(self, pos, ordered=True).sorted_by(sort, descending)

    def _ordinal_of(self, writer) -> int | None:
        if writer is None:
            return None
        if isinstance(writer, (int, np.integer)):
            return int(writer)
        for b in self._blocks:
            if b.writer == writer:
                return b.ordinal
        return -1  # an unknown writer id matches nothing

    def sort_key(self, key: str, pos: np.ndarray) -> np.ndarray | None:
        """The values rows sort by under ``key`` (None for "id": positions are in id order)."""
        if key not in SORT_KEYS:
            raise ValueError(f"sort key must be one of {SORT_KEYS}, not {key!r}")
        if key == "id":
            return None
        if key == "source":
            return _SOURCE_RANK[self.column("source")[pos]]
        if key == "env":
            return _SOURCE_RANK[self.column("source")[pos]] << 32 | (self.column("env_id")[pos].astype(np.int64)
                                                                    + 2**31)
        if key == "return":
            r = self.column("return")[pos]
            return np.where(np.isfinite(r), r, -np.inf)  # NaN and +-inf sort first, as -inf
        return self.column(key)[pos]

    # ------------------------------------------------------------ rows

    def _locate(self, p: int) -> tuple[_Block, int]:
        if not 0 <= p < self.rows:
            raise IndexError(p)
        i = int(np.searchsorted(self._offsets, p, side="right")) - 1
        return self._blocks[i], p - int(self._offsets[i])

    def episode(self, p: int) -> EpisodeInfo | None:
        """The EpisodeInfo of position ``p`` (None for a damaged row's placeholder)."""
        b, r = self._locate(int(p))
        if b.valid is not None and not b.valid[r]:
            return None
        return _info(b, r)

    def episode_id(self, p: int) -> str:
        b, r = self._locate(int(p))
        if b.open_rows:
            return ref_text(b.store, EpisodeId.open_text(b.id_ordinal, int(b.cols["slot"][r])))
        return ref_text(b.store, EpisodeId.row_text(b.id_ordinal, r))

    def position(self, episode_id: str) -> int | None:
        """The position of an id ("W:R" or "W:open-S"; "PATH:W:R" in a merged catalog), or None
        when this snapshot has no such row."""
        try:
            store, text = split_ref(episode_id)
            eid = EpisodeId.parse(text)
        except EpisodeIdError:
            return None
        for b, off in zip(self._blocks, self._offsets[:-1].tolist()):
            if b.id_ordinal != eid.writer or b.open_rows != eid.is_open or b.store != store:
                continue
            if eid.is_open:
                hit = np.flatnonzero(b.cols["slot"] == eid.slot)
                if hit.size:
                    return off + int(hit[0])
            elif eid.row < b.n and (b.valid is None or b.valid[eid.row]):
                return off + eid.row
        return None

    def find(self, writer: str, source: str, slot: int, start: int) -> int | None:
        """The position of the episode whose rows are ``start..`` of ``slot`` of ``writer``'s
        stream of ``source`` (an open episode keeps them when it is catalogued), or None."""
        code = next((k for k, v in layout.SOURCE_NAMES.items() if v == source), -1)
        ordinal = self._ordinal_of(writer)
        for p in np.flatnonzero(self.column("start") == start).tolist():
            b, r = self._locate(p)
            c = b.cols
            if b.ordinal == ordinal and c["source"][r] == code and c["slot"][r] == slot and (
                    b.valid is None or b.valid[r]):
                return p
        return None

    def writer_id(self, ordinal: int) -> str | None:
        return next((b.writer for b in self._blocks if b.ordinal == ordinal), None)

    def __iter__(self):
        return iter(self.query(in_progress=True))


def _info(b: _Block, r: int) -> EpisodeInfo:
    ep = episode_info(b.id_ordinal, b.writer, b.cols, r, b.open_rows)
    if b.store is not None:
        ep.__dict__["id"] = ref_text(b.store, ep.id)  # built just now: not shared yet
    return ep


def episode_info(ordinal: int, writer: str, cols: dict, r: int, open_rows: bool = False) -> EpisodeInfo:
    """The EpisodeInfo of row ``r`` of one writer's catalog columns (or of its open episodes)."""
    c = cols
    ep = object.__new__(EpisodeInfo)
    ep.__dict__.update(
        id=EpisodeId.open_text(ordinal, int(c["slot"][r])) if open_rows else EpisodeId.row_text(ordinal, r),
        writer=writer,
        source=layout.SOURCE_NAMES.get(int(c["source"][r]), "unknown"), slot=int(c["slot"][r]),
        env_id=int(c["env_id"][r]), device=int(c["device"][r]), iteration=int(c["iteration"][r]),
        env_step=int(c["env_step"][r]), start=int(c["start"][r]), length=int(c["length"][r]),
        ret=float(c["return"][r]), complete=bool(c["complete"][r]), wall_time=float(c["wall_time"][r]),
        in_progress=open_rows,
    )
    return ep


def episode_infos(ordinal: int, writer: str, cols: dict, lo: int, hi: int) -> list[EpisodeInfo]:
    """EpisodeInfo of catalog rows [lo, hi) of one writer, damaged rows' placeholders left out.
    Built from Python lists in one pass, filling each frozen dataclass's __dict__ directly: its
    __init__ (object.__setattr__ per field) would be most of the cost for many rows."""
    c = {k: v[lo:hi].tolist() for k, v in cols.items()}
    names = layout.SOURCE_NAMES
    new = object.__new__
    row_text = EpisodeId.row_text
    out = []
    for r, start, length, source, slot, env_id, device, iteration, env_step, ret, complete, wall in zip(
        range(lo, hi), c["start"], c["length"], c["source"], c["slot"], c["env_id"], c["device"],
        c["iteration"], c["env_step"], c["return"], c["complete"], c["wall_time"],
    ):
        if start < 0:
            continue  # a damaged catalog chunk's placeholder
        ep = new(EpisodeInfo)
        ep.__dict__.update(
            id=row_text(ordinal, r), writer=writer, source=names.get(source, "unknown"), slot=slot, env_id=env_id,
            device=device, iteration=iteration, env_step=env_step, start=start, length=length, ret=ret,
            complete=bool(complete), wall_time=wall, in_progress=False,
        )
        out.append(ep)
    return out


class Selection(Sequence):
    """The rows of a query, in order: a virtual table. ``sel[i]`` builds one EpisodeInfo;
    ``sel.column(name)`` gives a column of the selected rows without building any."""

    def __init__(self, catalog: Catalog, positions: np.ndarray, *, ordered: bool = False):
        self.catalog = catalog
        self.positions = np.asarray(positions, np.int64)
        self._ordered = ordered  # positions known to ascend (id order): no sort needed for it

    def __len__(self) -> int:
        return int(self.positions.shape[0])

    def __getitem__(self, i):
        if isinstance(i, slice):
            return [self.catalog.episode(p) for p in self.positions[i].tolist()]
        return self.catalog.episode(int(self.positions[i]))

    def __iter__(self):
        for p in self.positions.tolist():
            yield self.catalog.episode(p)

    def column(self, name: str) -> np.ndarray:
        return self.catalog.column(name)[self.positions]

    def ids(self, lo: int = 0, hi: int | None = None) -> list[str]:
        return [self.catalog.episode_id(p) for p in self.positions[lo:hi].tolist()]

    def index_of(self, episode_id: str) -> int | None:
        """Where an episode is in this selection (None when it is not in it)."""
        p = self.catalog.position(episode_id)
        if p is None:
            return None
        hit = np.flatnonzero(self.positions == p)
        return int(hit[0]) if hit.size else None

    def sorted_by(self, key: "str | np.ndarray", descending: bool = False) -> "Selection":
        """Re-sorted by a sort key name or by one value per selected row (a stable sort: ties
        keep their order, descending too, as ``sorted(reverse=True)`` does)."""
        values = self.catalog.sort_key(key, self.positions) if isinstance(key, str) else np.asarray(key)
        if values is None:  # id order is position order
            pos = self.positions if self._ordered else np.sort(self.positions)
            return Selection(self.catalog, pos[::-1] if descending else pos, ordered=not descending)
        pos = self.positions
        if descending:
            # Negated, so a stable ascending sort keeps ties in catalog order.
            values = -values.astype(np.float64) if values.dtype.kind == "f" else -values.astype(np.int64)
        return Selection(self.catalog, pos[np.argsort(values, kind="stable")])


__all__ = ["Catalog", "Selection", "EpisodeInfo", "COLUMNS", "SORT_KEYS", "episode_info", "episode_infos"]
