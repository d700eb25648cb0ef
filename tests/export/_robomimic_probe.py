"""Run by the robomimic interpreter (.venv-robomimic: torch, robomimic 0.3.0, no braxscope): load an
export with robomimic's own SequenceDataset and write what it read to an .npz.

    python _robomimic_probe.py FILE.h5 OUT.npz
"""

import importlib.util
import sys

import numpy as np
import robomimic.utils.obs_utils as ObsUtils
from robomimic.utils.dataset import SequenceDataset

assert importlib.util.find_spec("braxscope") is None, "the probe must run without braxscope"
SEQ = 10

path, out = sys.argv[1], sys.argv[2]
ObsUtils.initialize_obs_utils_with_obs_specs({"obs": {"low_dim": ["qpos", "qvel"]}})
result = {}
for split in ("all", "train", "valid"):
    ds = SequenceDataset(hdf5_path=path, obs_keys=("qpos", "qvel"), dataset_keys=("actions", "rewards", "dones"),
                         load_next_obs=True, frame_stack=1, seq_length=SEQ, pad_frame_stack=True, pad_seq_length=True,
                         hdf5_cache_mode="low_dim", filter_by_attribute=None if split == "all" else split)
    result[f"{split}/demos"] = np.array(ds.demos, dtype="S")
    result[f"{split}/len"] = np.array(len(ds))
    # A sample inside the last demo of the split, 3 rows in (robomimic pads past a demo's end).
    demo = ds.demos[-1]
    index = ds._demo_id_to_start_indices[demo] + 3
    sample = ds[index]
    result[f"{split}/demo"] = np.array(demo, dtype="S")
    result[f"{split}/offset"] = np.array(index - ds._demo_id_to_start_indices[demo])
    for group in ("obs", "next_obs"):
        for key in ("qpos", "qvel"):
            result[f"{split}/{group}/{key}"] = sample[group][key]
    for key in ("actions", "rewards", "dones"):
        result[f"{split}/{key}"] = sample[key]
    ds.close_and_delete_hdf5_handle() if hasattr(ds, "close_and_delete_hdf5_handle") else None
np.savez(out, **result)
