"""Lets brax 0.14.2 train on a machine whose JAX is newer than our pin (the GPU machine's image).

brax 0.14.2's ppo.train calls ``jax.device_put_replicated``, which JAX 0.10 removed (brax issue
#671, fixed on brax's main after 0.14.2). Our own install pins jax 0.9.2 instead; this file is only
for a machine where JAX comes with the image and can't be swapped, and is put on PYTHONPATH there
so every benchmark process (and its children) gets it. It restores the old function's meaning (a
copy of x on each device, stacked on a new leading axis) for every variant alike; brax's ppo.train
itself is not changed.
"""

import jax
import numpy as np

if not hasattr(jax, "device_put_replicated"):
    def device_put_replicated(x, devices):
        mesh = jax.sharding.Mesh(np.array(devices), ("d",))
        sharding = jax.sharding.NamedSharding(mesh, jax.sharding.PartitionSpec("d"))

        def put(a):
            a = np.asarray(a)
            return jax.device_put(np.broadcast_to(a[None], (len(devices),) + a.shape), sharding)

        return jax.tree_util.tree_map(put, x)

    jax.device_put_replicated = device_put_replicated
