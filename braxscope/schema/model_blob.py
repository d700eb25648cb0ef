"""The MuJoCo model embedded in the store as MJB bytes, and the names the viewer needs."""

from __future__ import annotations

import hashlib

import mujoco
import numpy as np

from .errors import ModelError


def model_to_bytes(model: mujoco.MjModel) -> np.ndarray:
    """MJB bytes of ``model`` as a 1-D uint8 array."""
    buf = np.empty(mujoco.mj_sizeModel(model), dtype=np.uint8)
    mujoco.mj_saveModel(model, None, buf)
    return buf


def model_from_bytes(blob: bytes, *, saved_with: str | None = None) -> mujoco.MjModel:
    try:
        # MjModel has no from-bytes constructor for MJB; an in-memory asset named like a file is
        # the documented way to load one without touching disk.
        return mujoco.MjModel.from_binary_path("model.mjb", {"model.mjb": bytes(blob)})
    except Exception as e:  # mujoco raises ValueError with a C message
        hint = ""
        if saved_with and saved_with != mujoco.__version__:
            hint = f" (saved with mujoco {saved_with}, this is {mujoco.__version__}: pip install mujoco=={saved_with})"
        raise ModelError(f"the store's embedded model cannot be loaded: "
                         f"{str(e).strip().splitlines()[0]}{hint}") from None


def sha256(blob: np.ndarray | bytes) -> str:
    return hashlib.sha256(bytes(blob)).hexdigest()


def model_names(model: mujoco.MjModel) -> dict:
    """Sizes and names stored in the root attributes (JSON-safe)."""

    def names(kind: str, n: int) -> list[str]:
        return [mujoco.mj_id2name(model, getattr(mujoco.mjtObj, kind), i) or f"{kind[6:].lower()}{i}" for i in range(n)]

    return {
        "nq": int(model.nq),
        "nv": int(model.nv),
        "nu": int(model.nu),
        "nmocap": int(model.nmocap),
        "joint_names": names("mjOBJ_JOINT", model.njnt),
        "actuator_names": names("mjOBJ_ACTUATOR", model.nu),
        "body_names": names("mjOBJ_BODY", model.nbody),
        "timestep": float(model.opt.timestep),
    }
