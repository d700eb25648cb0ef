"""The runs a replay session shows: which stores and writer groups make a run, and its label.

A *run* is what a user compares: one training run. Every store given is at least one run.
Inside a store, writer groups that recorded the same configuration are one run (the processes of
one multi-host run share it, and a writer resumed after a crash keeps its own group); groups of
different configurations, like the seeds of a sweep that several processes recorded into one
store, are separate runs. Configuration here is what each writer recorded in its group
(``config``: the PPO keyword arguments and the user's own), leaving out what differs between the
processes of one run anyway (object reprs with addresses, braxscope's own recording settings).

A run's label is short: the env, then only what differs between the runs shown ("ip s0" and
"ip s1" for two seeds of inverted_pendulum; "ant" and "ip" for two envs). On the command line
``PATH=LABEL`` names a store's run(s) instead. Pure functions: no store access, no GUI.
"""

from __future__ import annotations

import json
import math
import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Sequence

# Keys of a writer's config that say nothing about the run itself.
_IGNORED_KEYS = ("braxscope",)
# Short names of the PPO settings a sweep usually varies.
_ABBREV = {"seed": "s", "learning_rate": "lr", "num_timesteps": "steps", "num_envs": "envs", "batch_size": "bs",
           "entropy_cost": "ent", "discounting": "disc", "unroll_length": "unroll", "episode_length": "len",
           "num_minibatches": "mb", "reward_scaling": "rs", "normalize_observations": "norm",
           "num_updates_per_batch": "upd", "clipping_epsilon": "clip", "action_repeat": "ar", "backend": ""}
MAX_LABEL = 24  # characters; a longer derived label is cut with "…"
_MAX_PARTS = 3  # differing settings named in a derived label


@dataclass(frozen=True)
class Run:
    """One run of a session: a store, or the writer groups of one configuration inside it."""

    index: int
    store: int  # index of its store among the session's stores
    path: str  # that store's path as given
    label: str
    writers: tuple[str, ...]  # its writer ids
    env_name: str
    config: dict = field(default_factory=dict, compare=False, repr=False)


def split_label(text: str) -> tuple[str, str | None]:
    """A ``view`` argument: ``"PATH"`` or ``"PATH=LABEL"`` -> (path, label or None). A path that
    exists as given is a path even when it holds "=" (a sweep's ``runs/lr=0.1.zarr``)."""
    text = str(text)
    if "=" not in text or os.path.exists(text):
        return text, None
    path, _, label = text.rpartition("=")
    return (path, label.strip() or None) if path else (text, None)


def run_config(config: Any) -> dict:
    """The part of a recorded config that tells runs apart (see the module docstring)."""
    if not isinstance(config, dict):
        return {}
    return {k: v for k, v in config.items()
            if k not in _IGNORED_KEYS and not (isinstance(v, str) and re.search(r" at 0x[0-9a-f]+", v))}


def config_key(config: Any) -> str:
    return json.dumps(run_config(config), sort_keys=True, default=str)


def group_writers(writers: Sequence[Any]) -> list[tuple[str, ...]]:
    """The writer ids of a store (``WriterStatus`` in ordinal order), grouped into runs by their
    recorded config, in order of each run's first writer. A store with no writers yet is one run."""
    groups: dict[str, list[str]] = {}
    for w in writers:
        groups.setdefault(config_key(w.config), []).append(w.writer_id)
    return [tuple(g) for g in groups.values()] or [()]


def short_env(name: str) -> str:
    """"inverted_pendulum" -> "ip", "CartpoleBalance" -> "cb", "ant" -> "ant"."""
    parts = [p for p in re.split(r"[_\-\s]+|(?<=[a-z0-9])(?=[A-Z])", str(name)) if p]
    if len(parts) > 1:
        return "".join(p[0] for p in parts).lower()
    return str(name)[:10] or "run"


def _value_text(v: Any) -> str:
    if isinstance(v, bool):
        return "on" if v else "off"
    if isinstance(v, float):
        return f"{v:g}" if math.isfinite(v) else str(v)
    if isinstance(v, (int, str)):
        return str(v)[:10]
    return json.dumps(v, sort_keys=True, default=str)[:10]


def _part(key: str, value: Any) -> str:
    name = _ABBREV.get(key, key if len(key) <= 8 else "".join(p[0] for p in key.split("_") if p))
    if value is None:  # not recorded in this run
        return f"{name}?" if key == "seed" else f"{name} ?" if name else ""
    text = _value_text(value)
    return f"{name}{text}" if key == "seed" or not name else f"{name} {text}"


def derive_labels(facts: Sequence[dict]) -> list[str]:
    """A short label per run from ``facts`` (each ``{"env": name, "backend": str, "config":
    dict, "store": path}``): the env, then only the settings that differ between the runs of that
    env; when nothing but the store differs, the store's name. Unique: a repeat gets "#2", "#3"."""
    envs = [short_env(f.get("env", "")) for f in facts]
    configs = [dict(run_config(f.get("config")), backend=f.get("backend", "")) for f in facts]
    # Settings tell apart runs of one env: the env alone names a run that has it to itself.
    differ_of = {}
    for env in set(envs):
        group = [c for e, c in zip(envs, configs) if e == env]
        keys = sorted({k for c in group for k in c}, key=lambda k: (k != "seed", k))
        differ_of[env] = [k for k in keys
                          if len({json.dumps(c.get(k), sort_keys=True, default=str) for c in group}) > 1]
    labels = []
    for env, c, f in zip(envs, configs, facts):
        differ = differ_of[env]
        parts = [_part(k, c.get(k)) for k in differ[:_MAX_PARTS]] + (["…"] if len(differ) > _MAX_PARTS else [])
        label = " ".join([env] + [p for p in parts if p])
        labels.append(label if len(label) <= MAX_LABEL else label[:MAX_LABEL - 1] + "…")
    if len(facts) > 1 and len(set(labels)) < len(labels):
        # Nothing recorded tells them apart (two copies of a run, or runs of the same settings):
        # the stores' names do.
        stems = [Path(str(f.get("store", ""))).name.removesuffix(".zarr") for f in facts]
        labels = [f"{lab} {stem}" if len(set(stems)) > 1 else lab for lab, stem in zip(labels, stems)]
    return _unique(labels)


def _unique(labels: list[str]) -> list[str]:
    seen: dict[str, int] = {}
    out = []
    for lab in labels:
        seen[lab] = seen.get(lab, 0) + 1
        out.append(lab if seen[lab] == 1 else f"{lab} #{seen[lab]}")
    return out


def make_runs(stores: Sequence[dict]) -> list[Run]:
    """The runs of a session's stores. Each store: ``{"path": str, "label": str | None,
    "attrs": root attributes, "writers": [WriterStatus]}``. A store named with a label gives its
    runs that label (with what tells them apart when it holds several)."""
    pending = []  # (store index, writer ids, facts)
    for i, st in enumerate(stores):
        attrs = st["attrs"]
        by_id = {w.writer_id: w for w in st["writers"]}
        for ids in group_writers(st["writers"]):
            cfg = by_id[ids[0]].config if ids else attrs.get("config", {})
            pending.append((i, ids, {"env": attrs.get("env_name", ""), "backend": attrs.get("backend", ""),
                                     "config": cfg, "store": st["path"]}))
    derived = derive_labels([f for _, _, f in pending])
    labels = []
    for i, st in enumerate(stores):
        mine = [k for k, (s, _, _) in enumerate(pending) if s == i]
        if st.get("label"):
            if len(mine) == 1:
                labels.append((mine[0], st["label"]))
                continue
            # Several runs in one named store: the name, then what tells them apart inside it.
            inner = derive_labels([pending[k][2] for k in mine])
            env = short_env(stores[i]["attrs"].get("env_name", ""))
            labels += [(k, f"{st['label']} {lab.removeprefix(env).strip()}".strip()) for k, lab in zip(mine, inner)]
        else:
            labels += [(k, derived[k]) for k in mine]
    final = _unique([lab for _, lab in sorted(labels)])
    return [Run(index=k, store=s, path=str(stores[s]["path"]), label=final[k], writers=ids,
                env_name=str(stores[s]["attrs"].get("env_name", "")), config=f["config"] or {})
            for k, (s, ids, f) in enumerate(pending)]


__all__ = ["Run", "split_label", "run_config", "config_key", "group_writers", "short_env", "derive_labels",
           "make_runs", "MAX_LABEL"]
