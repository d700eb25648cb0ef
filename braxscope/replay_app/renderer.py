"""Renderer: ``qpos`` to an RGB frame with ``mujoco.Renderer`` offscreen.

One object, one GL context, one thread: create it on the thread that will use it (in the app,
the render thread) and call :meth:`close` there. The hot path is :meth:`render`, which runs only
``mj_kinematics`` (positions are all a picture needs) and can write into a caller's buffer.
"""

from __future__ import annotations

import mujoco
import numpy as np

from ..schema.errors import BraxscopeError


class RendererError(BraxscopeError):
    """No offscreen OpenGL is available, or the model cannot be drawn."""


TRACK = "track"  # camera that follows the root body
FREE = "free"  # MuJoCo's default free camera framing the whole scene

# A frame whose qpos holds NaN or inf is shown as this colour with a cross, not rendered.
_INVALID_RGB = (90, 20, 20)


def root_body(model: mujoco.MjModel) -> int:
    """The first body attached to the world: what a tracking camera should follow."""
    for b in range(1, model.nbody):
        if model.body_parentid[b] == 0:
            return b
    return 0


def _agent_radius(model: mujoco.MjModel, body: int) -> float:
    """Radius of the geoms of ``body``'s subtree at qpos0. ``stat.extent`` includes the floor,
    which would put a tracking camera so far away that the agent is a speck."""
    data = mujoco.MjData(model)
    mujoco.mj_kinematics(model, data)
    subtree = [b for b in range(model.nbody) if b == body or _is_descendant(model, b, body)]
    geoms = [g for g in range(model.ngeom) if model.geom_bodyid[g] in subtree]
    if not geoms:
        return max(0.5, float(model.stat.extent) / 2)
    center = data.xpos[body]
    r = max(float(np.linalg.norm(data.geom_xpos[g] - center) + model.geom_rbound[g]) for g in geoms)
    return max(0.25, r)


def _set_mocap(model: mujoco.MjModel, data: mujoco.MjData, pos, quat) -> None:
    """Mocap bodies where the recording put them; the model's defaults (the body's own pose)
    where nothing or NaN was recorded."""
    if model.nmocap == 0:
        return
    mocap_body = np.flatnonzero(model.body_mocapid >= 0)
    ids = model.body_mocapid[mocap_body]
    data.mocap_pos[ids] = model.body_pos[mocap_body]
    data.mocap_quat[ids] = model.body_quat[mocap_body]
    for given, dst in ((pos, data.mocap_pos), (quat, data.mocap_quat)):
        if given is not None:
            g = np.asarray(given, np.float64).reshape(dst.shape)
            ok = np.isfinite(g).all(axis=1)
            dst[ok] = g[ok]


def _is_descendant(model: mujoco.MjModel, b: int, ancestor: int) -> bool:
    while b > 0:
        b = int(model.body_parentid[b])
        if b == ancestor:
            return True
    return False


class Renderer:
    """Renders frames of one model at a fixed size.

    ``camera`` is "track" (default: follows the root body), "free", or a model camera's name or
    index. ``shadows`` and ``reflections`` are off by default: on software GL they cost 3-4x.
    """

    def __init__(self, model: mujoco.MjModel, width: int = 640, height: int = 480, *,
                 camera: str | int = TRACK, shadows: bool = False, reflections: bool = False):
        self.model = model
        # The offscreen buffer must hold the image; grow it on our own copy of the sizes.
        model.vis.global_.offwidth = max(int(model.vis.global_.offwidth), width)
        model.vis.global_.offheight = max(int(model.vis.global_.offheight), height)
        try:
            self._renderer = mujoco.Renderer(model, height=height, width=width)
        except Exception as e:
            raise RendererError(
                f"cannot create an offscreen OpenGL context ({str(e).strip().splitlines()[0][:120]}): "
                "install libegl1 libgl1-mesa-dri (or libosmesa6) and set MUJOCO_GL=egl (or osmesa)"
            ) from None
        self.width, self.height = width, height
        self._data = mujoco.MjData(model)
        self.camera = mujoco.MjvCamera()
        self.set_camera(camera)
        self.set_flags(shadows=shadows, reflections=reflections)
        self._invalid = self._invalid_frame()

    # -------------------------------------------------------------- settings

    def set_camera(self, camera: str | int = TRACK) -> None:
        """Switch camera and reset its view."""
        cam = self.camera
        if camera == TRACK:
            mujoco.mjv_defaultFreeCamera(self.model, cam)
            cam.type = mujoco.mjtCamera.mjCAMERA_TRACKING
            cam.trackbodyid = root_body(self.model)
            cam.fixedcamid = -1
            cam.distance = 3.0 * _agent_radius(self.model, cam.trackbodyid)
            cam.elevation = -20.0
            cam.azimuth = 90.0
        elif camera == FREE or camera == -1:
            mujoco.mjv_defaultFreeCamera(self.model, cam)
        else:
            cid = (camera if isinstance(camera, int)
                   else mujoco.mj_name2id(self.model, mujoco.mjtObj.mjOBJ_CAMERA, camera))
            if not 0 <= cid < self.model.ncam:
                names = [mujoco.mj_id2name(self.model, mujoco.mjtObj.mjOBJ_CAMERA, i) for i in range(self.model.ncam)]
                raise RendererError(f"no camera {camera!r} in the model; choose track, free or one of {names}")
            cam.type = mujoco.mjtCamera.mjCAMERA_FIXED
            cam.fixedcamid = cid
        self.camera_name = camera

    def set_flags(self, *, shadows: bool = False, reflections: bool = False) -> None:
        flags = self._renderer.scene.flags
        flags[mujoco.mjtRndFlag.mjRND_SHADOW] = shadows
        flags[mujoco.mjtRndFlag.mjRND_REFLECTION] = reflections
        self.shadows, self.reflections = shadows, reflections

    def orbit(self, d_azimuth: float = 0.0, d_elevation: float = 0.0) -> None:
        self.camera.azimuth += d_azimuth
        self.camera.elevation = float(np.clip(self.camera.elevation + d_elevation, -89.0, 89.0))

    def zoom(self, factor: float) -> None:
        self.camera.distance = float(np.clip(self.camera.distance * factor, 0.05, 1e3))

    def pan(self, dx: float, dy: float) -> None:
        """Move the look-at point in the camera's plane (units of the view distance)."""
        if self.camera.type == mujoco.mjtCamera.mjCAMERA_TRACKING:
            self.camera.type = mujoco.mjtCamera.mjCAMERA_FREE  # panning detaches from the body
            self.camera.lookat[:] = self._data.xpos[self.camera.trackbodyid]
        az = np.deg2rad(self.camera.azimuth)
        right = np.array([np.sin(az), -np.cos(az), 0.0])
        self.camera.lookat[:] += self.camera.distance * (dx * right + dy * np.array([0, 0, 1.0]))

    # -------------------------------------------------------------- hot path

    def render(self, qpos: np.ndarray, out: np.ndarray | None = None, *,
               mocap_pos: np.ndarray | None = None, mocap_quat: np.ndarray | None = None) -> np.ndarray:
        """RGB uint8 [height, width, 3] of the state ``qpos`` [nq], with the mocap bodies at
        ``mocap_pos`` [nmocap,3] / ``mocap_quat`` [nmocap,4] when given (else, or where NaN, at
        the model's default mocap pose)."""
        q = np.asarray(qpos)
        if q.shape != (self.model.nq,):
            raise RendererError(f"qpos has shape {q.shape} but the model needs ({self.model.nq},): "
                                f"the data does not match the model")
        if not np.isfinite(q).all():
            if out is None:
                return self._invalid.copy()
            out[...] = self._invalid
            return out
        self._update_scene(q, mocap_pos, mocap_quat)
        return self._renderer.render(out=out)

    def _update_scene(self, q: np.ndarray, mocap_pos=None, mocap_quat=None) -> None:
        self._data.qpos[:] = q
        _set_mocap(self.model, self._data, mocap_pos, mocap_quat)
        mujoco.mj_kinematics(self.model, self._data)
        # The tracking camera looks at the body's subtree_com, which mj_kinematics leaves at 0.
        mujoco.mj_comPos(self.model, self._data)
        mujoco.mj_camlight(self.model, self._data)  # cameras and lights attached to bodies
        self._renderer.update_scene(self._data, camera=self.camera)

    def render_ghosts(self, qposes: list[np.ndarray], colours: list[tuple[float, float, float]] | None = None,
                      alpha: float = 0.35, out: np.ndarray | None = None, align: bool = True) -> np.ndarray:
        """Several states in one scene: ``qposes[0]`` solid, the others translucent ("ghosts",
        tinted by ``colours``, RGB in [0,1]) so that gaits can be compared in place. The camera
        tracks the first state. With ``align`` (and a free-floating root), every ghost's root is
        moved to the first state's x, y: episodes that walked different distances overlap.
        States with NaN/inf are left out; a NaN first state gives the invalid frame."""
        if not qposes:
            raise RendererError("render_ghosts needs at least one state")
        q0 = np.asarray(qposes[0])
        if q0.shape != (self.model.nq,) or not np.isfinite(q0).all():
            return self.render(q0, out=out)  # the shape error, or the invalid frame
        self._update_scene(q0)
        scn = self._renderer.scene
        if getattr(self, "_ghost", None) is None:
            self._ghost = (mujoco.MjData(self.model), mujoco.MjvOption(), mujoco.MjvPerturb())
        data, opt, pert = self._ghost
        for i, q in enumerate(qposes[1:], start=1):
            q = np.asarray(q)
            if q.shape != (self.model.nq,) or not np.isfinite(q).all():
                continue
            data.qpos[:] = q
            if align and self.model.njnt and self.model.jnt_type[0] == mujoco.mjtJoint.mjJNT_FREE:
                adr = int(self.model.jnt_qposadr[0])
                data.qpos[adr:adr + 2] = q0[adr:adr + 2]
            mujoco.mj_kinematics(self.model, data)
            n0 = scn.ngeom
            mujoco.mjv_addGeoms(self.model, data, opt, pert, mujoco.mjtCatBit.mjCAT_DYNAMIC, scn)
            for g in range(n0, scn.ngeom):
                if colours is not None:
                    c = colours[i % len(colours)]
                    scn.geoms[g].rgba[:3] = 0.5 * scn.geoms[g].rgba[:3] + 0.5 * np.asarray(c[:3])
                scn.geoms[g].rgba[3] = alpha
        return self._renderer.render(out=out)

    def _invalid_frame(self) -> np.ndarray:
        img = np.empty((self.height, self.width, 3), np.uint8)
        img[...] = _INVALID_RGB
        # A light diagonal cross says "no valid state here" without any font.
        n = min(self.width, self.height)
        idx = np.arange(n)
        for t in range(-2, 3):
            r = np.clip(idx + t, 0, n - 1)
            img[r * self.height // n, idx * self.width // n] = 230
            img[r * self.height // n, (n - 1 - idx) * self.width // n] = 230
        return img

    @staticmethod
    def is_invalid(frame: np.ndarray) -> bool:
        return bool((frame[0, frame.shape[1] // 2] == _INVALID_RGB).all()
                    and (frame[frame.shape[0] // 2, frame.shape[1] // 2] == 230).all())

    # -------------------------------------------------------------- lifetime

    def close(self) -> None:
        if self._renderer is not None:
            self._renderer.close()
            self._renderer = None

    def __enter__(self) -> "Renderer":
        return self

    def __exit__(self, *exc) -> None:
        self.close()
