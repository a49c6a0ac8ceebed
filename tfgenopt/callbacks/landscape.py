"""``LossLandscape``: run loss-landscape and curvature probes every N epochs during ``fit``."""

from __future__ import annotations

import copy
import os

import keras
import numpy as np
import tensorflow as tf

from tfgenopt import catalog, landscape
from tfgenopt._validation import check_array, check_choice, check_float, check_int
from tfgenopt.callbacks.tensorboard import summary_sink
from tfgenopt.plotting import save_figure
from tfgenopt.plotting.landscape import plot_curvature, plot_path_angle, plot_slices, plot_surface
from tfgenopt.plotting.spectrum import plot_hessian_spectrum

__all__ = ["LossLandscape"]

KINDS = ("1d", "2d", "hessian", "trace", "noise_scale", "sharpness", "rotation",
         "path_angle", "spectrum")
_PREFIX = {"discriminator": "d_", "generator": "g_"}


def _array(values):
    arr = np.asarray(values)
    return arr.astype("float32") if np.issubdtype(arr.dtype, np.floating) else arr


@keras.saving.register_keras_serializable(package="tfgenopt")
class LossLandscape(keras.callbacks.Callback):
    """Probe the loss landscape and its curvature every ``every`` epochs; log the numbers.

    Scalars go into ``logs`` (so ``History``, ``EarlyStopping``, TensorBoard and Keras Tuner
    see them): ``hessian_top`` (and ``hessian_top_2``... when ``k > 1``), ``hessian_trace``,
    ``hessian_trace_std``, ``grad_noise_scale``, ``sharpness``; for a GAN each is computed
    per player and prefixed ``d_`` / ``g_`` (``d_hessian_top``, ``g_hessian_trace``...), and
    ``"rotation"`` logs the game's ``rotation_index``. Epochs without a probe log nothing.
    1-D slices, 2-D surfaces and path angles (``"path_angle"``: the joint gradient field
    along the path from the previous probe's weights to the current ones, extrapolated to
    1.5) are kept in :attr:`history` and drawn to ``out_dir``. Probes
    never change the model's weights, optimizer state, BatchNorm statistics or seed states.

    Args:
        probe_data: a fixed probe set: ``x``, ``(x, y)`` for a plain model (targets default to
            ``x``), images for a GAN, ``x`` for a VAE.
        every: probe at the end of epochs ``every``, ``2 * every``, ... (counted from 1) and
            of the last epoch (``tfgenopt.catalog.due_at_epoch_end``), never on others.
        kind: which probes: any of ``"1d"``, ``"2d"``, ``"hessian"``, ``"trace"``,
            ``"noise_scale"``, ``"sharpness"``, ``"rotation"`` (GANs), ``"path_angle"``,
            ``"spectrum"`` (the Hessian's eigenvalue density).
        grid: points per axis of the slices (``grid`` for 1-D, ``grid x grid`` for 2-D).
        span: the slices cover ``[-span, span]`` along filter-normalized directions.
        k: number of top Hessian eigenvalues.
        iterations: Lanczos steps of the eigenvalue probe.
        trace_samples: Hutchinson samples of the trace probe.
        noise_batch_size: small batch of the noise-scale probe (default ``n // 8``).
        sharpness_radius: radius of the sharpness ball.
        players: for a GAN, which players to probe (default both).
        batch_size: evaluate the probe set in chunks of this size.
        seed: seed of directions, probe vectors and the GAN's latent batch (the same every
            epoch, so curves across epochs are comparable).
        out_dir: folder for figures (``None``: no figures saved).
        trajectory: record the weights at the start and at every probe; at the end of
            training (3+ snapshots) compute the loss surface on the trajectory's PCA plane
            (:attr:`trajectory_surfaces`) and draw the path over its contour.
        strategy: how slices and surfaces evaluate their points (see
            ``tfgenopt.landscape.Objective``); ``"auto"`` runs the compiled loop until a
            player's probes have evaluated 64 points, then times the compiled loop, the
            XLA-compiled loop and the vectorized pass once and keeps the fastest for the rest
            of training (the probe objectives live as long as the callback, so the one-off
            timing is amortized; a few short probes never pay for it).
        verbose: 1 shows a progress bar over the probes of an epoch.
        spectrum_runs: random starts of the ``"spectrum"`` probe (stochastic Lanczos
            quadrature with ``iterations`` steps, ``tfgenopt.landscape.hessian_spectrum``); its
            densities are kept in :attr:`history` (``record["spectra"]``, per player), drawn
            to ``out_dir`` (``spectrum_{player}.png``) and sent to a
            ``tfgenopt.callbacks.TensorBoard`` of the run, like the other figures.

    Example:
        >>> import tfgenopt as tg, numpy as np
        >>> ae = tg.builders.dense_autoencoder(input_dim=16, hidden=(4,))
        >>> ae.compile("adam", "mse")
        >>> x = np.random.default_rng(0).uniform(size=(32, 16)).astype("float32")
        >>> cb = LossLandscape(x, kind=("hessian",), verbose=0)
        >>> h = ae.fit(x, x, epochs=1, verbose=0, callbacks=[cb])
        >>> "hessian_top" in h.history
        True
    """

    def __init__(self, probe_data, every=1, kind=("1d", "hessian", "trace"), grid=21, span=1.0,
                 k=1, iterations=20, trace_samples=16, noise_batch_size=None,
                 sharpness_radius=0.05, players=None, batch_size=None, seed=0, out_dir=None,
                 trajectory=False, strategy="auto", verbose=1, spectrum_runs=2):
        super().__init__()
        for leaf in tf.nest.flatten(probe_data):
            check_array("probe_data", leaf, min_ndim=1)
        kind = (kind,) if isinstance(kind, str) else tuple(kind)
        if not kind:
            raise ValueError(f"`kind` must name at least one probe of {list(KINDS)}.")
        for item in kind:
            check_choice("kind", item, KINDS)
        if players is not None:
            players = (players,) if isinstance(players, str) else tuple(players)
            for p in players:
                check_choice("players", p, sorted(landscape.objectives.PLAYERS))
        self._args = dict(
            probe_data=probe_data, every=check_int("every", every, minimum=1), kind=kind,
            grid=check_int("grid", grid, minimum=2),
            span=check_float("span", span, minimum=0.0, min_inclusive=False),
            k=check_int("k", k, minimum=1), iterations=check_int("iterations", iterations, 1),
            trace_samples=check_int("trace_samples", trace_samples, minimum=2),
            noise_batch_size=None if noise_batch_size is None else check_int(
                "noise_batch_size", noise_batch_size, minimum=1),
            sharpness_radius=check_float("sharpness_radius", sharpness_radius, minimum=0.0,
                                         min_inclusive=False),
            players=players,
            batch_size=None if batch_size is None else check_int("batch_size", batch_size, 1),
            seed=check_int("seed", seed), out_dir=None if out_dir is None else os.fspath(out_dir),
            trajectory=bool(trajectory),
            strategy=check_choice("strategy", strategy, landscape.STRATEGIES),
            verbose=check_int("verbose", verbose, 0, 2),
            spectrum_runs=check_int("spectrum_runs", spectrum_runs, minimum=1))
        if self._args["iterations"] < self._args["k"]:
            raise ValueError(f"`iterations` ({iterations}) must be >= `k` ({k}).")
        for name, value in self._args.items():
            setattr(self, name, value)
        self.history = []
        self.trajectory_surfaces = {}
        self._snapshots = {}
        self._objectives = {}
        self._game = None
        self._previous = None

    # ------------------------------------------------------------------ keras plumbing
    def get_config(self):
        """The constructor arguments (the probe set as nested lists)."""
        config = dict(self._args)
        config["probe_data"] = tf.nest.map_structure(
            lambda a: np.asarray(a).tolist(), self._args["probe_data"])
        config["kind"] = list(self.kind)
        config["players"] = None if self.players is None else list(self.players)
        return config

    @classmethod
    def from_config(cls, config):
        config = dict(config)
        data = config["probe_data"]
        if isinstance(data, tuple):  # (x, y[, sample_weight])
            config["probe_data"] = tuple(_array(a) for a in data)
        else:
            config["probe_data"] = _array(data)
        return cls(**config)

    def __deepcopy__(self, memo):
        """A fresh copy with the same arguments (compiled probes are not copied)."""
        clone = type(self)(**copy.deepcopy(self._args, memo))
        clone.history = copy.deepcopy(self.history, memo)
        return clone

    def on_train_begin(self, logs=None):
        if self.out_dir:  # an unwritable folder fails before the first step
            os.makedirs(self.out_dir, exist_ok=True)
        self.history = []
        self.trajectory_surfaces = {}
        self._objectives = {}
        self._game = None
        self._snapshots = {}
        self._previous = None
        if self.trajectory:
            self._snapshot()

    def _snapshot(self):
        for player in self._players():
            self._snapshots.setdefault(player, []).append(
                landscape.get_weights(self.model, player=player))

    # ------------------------------------------------------------------ probes
    def _players(self):
        if landscape.objectives._is_gan(self.model):
            return [landscape.objectives.PLAYERS[p] for p in (self.players or ("d", "g"))]
        return [None]

    def _objective(self, player):
        if player not in self._objectives:
            obj = landscape.objective(self.model, self.probe_data, player=player,
                              batch_size=self.batch_size, seed=self.seed)
            obj.strategy = self.strategy
            self._objectives[player] = obj
        return self._objectives[player]

    def _get_game(self):
        if self._game is None:
            players = self._players()
            self._game = landscape.Game({p or "model": self._objective(p) for p in players})
        return self._game

    def _tasks(self):
        tasks = [(kind, player) for player in self._players() for kind in self.kind
                 if kind not in ("rotation", "path_angle")]
        if "rotation" in self.kind and landscape.objectives._is_gan(self.model):
            tasks.append(("rotation", None))
        if "path_angle" in self.kind:
            tasks.append(("path_angle", None))
        return tasks

    def _run(self, kind, player, record):
        prefix = _PREFIX.get(player, "")
        scalars = record["logs"]
        if kind == "rotation":
            scalars["rotation_index"] = landscape.rotation_index(self._get_game(),
                                                         seed=self.seed)["rotation"]
            return
        if kind == "path_angle":
            game = self._get_game()
            current = game.weights()
            if self._previous is not None and not all(
                    np.array_equal(a, b) for pa, pb in zip(self._previous, current)
                    for a, b in zip(pa, pb)):
                record["path_angle"] = landscape.path_angle(
                    game, weights_a=self._previous, weights_b=current,
                    alphas=np.linspace(0.0, 1.5, self.grid))
            self._previous = current
            return
        obj = self._objective(player)
        if kind == "1d":
            record["slices"][player or "model"] = landscape.slice_1d(
                obj, alphas=np.linspace(-self.span, self.span, self.grid), seed=self.seed)
        elif kind == "2d":
            record["surfaces"][player or "model"] = landscape.surface_2d(
                obj, grid=self.grid, span=self.span, seed=self.seed)
        elif kind == "hessian":
            values = landscape.hessian_eigenvalues(obj, k=self.k, iterations=self.iterations,
                                           seed=self.seed)
            scalars[f"{prefix}hessian_top"] = float(values[0])
            for i, value in enumerate(values[1:], start=2):
                scalars[f"{prefix}hessian_top_{i}"] = float(value)
        elif kind == "trace":
            out = landscape.hessian_trace(obj, samples=self.trace_samples, seed=self.seed)
            scalars[f"{prefix}hessian_trace"] = out["trace"]
            scalars[f"{prefix}hessian_trace_std"] = out["std_error"]
        elif kind == "noise_scale":
            out = landscape.gradient_noise_scale(obj, batch_size=self.noise_batch_size, seed=self.seed)
            scalars[f"{prefix}grad_noise_scale"] = out["noise_scale"]
        elif kind == "spectrum":  # steps: `iterations` (at most the parameter count)
            record["spectra"][player or "model"] = landscape.hessian_spectrum(
                obj, steps=min(self.iterations, obj.num_params), runs=self.spectrum_runs,
                seed=self.seed)
        elif kind == "sharpness":
            scalars[f"{prefix}sharpness"] = landscape.sharpness(obj, radius=self.sharpness_radius)[
                "sharpness"]

    def on_epoch_end(self, epoch, logs=None):
        last = self.params.get("epochs") if isinstance(self.params, dict) else None
        if not catalog.due_at_epoch_end(epoch, self.every, last):
            return
        record = {"epoch": epoch + 1, "logs": {}, "slices": {}, "surfaces": {},
                  "path_angle": None, "spectra": {}}
        tasks = self._tasks()
        bar = keras.utils.Progbar(len(tasks), unit_name="probe") if self.verbose else None
        for i, (kind, player) in enumerate(tasks):
            self._run(kind, player, record)
            if bar is not None:
                bar.update(i + 1, values=[(k, v) for k, v in record["logs"].items()
                                          if np.isfinite(v)])
        self.history.append(record)
        if self.trajectory:
            self._snapshot()
        if logs is not None:
            logs.update(record["logs"])
        if self.out_dir:
            self._save_figures(record)
        sink = summary_sink(self.model)  # a tfgenopt.callbacks.TensorBoard in the run
        if sink is not None:
            sink.landscape(record, epoch, self.history)

    def on_train_end(self, logs=None):
        for player, snapshots in self._snapshots.items():
            if len(snapshots) >= 3:
                self.trajectory_surfaces[player or "model"] = landscape.trajectory_surface(
                    self._objective(player), trajectory=snapshots, grid=self.grid)
        if self.out_dir:
            for name, surface in self.trajectory_surfaces.items():
                save_figure(plot_surface(surface, trajectory=surface["trajectory"],
                                           title=f"{name}: trajectory on its PCA plane"),
                            os.path.join(self.out_dir, f"trajectory_{name}.png"))
        if self.out_dir and self.history and any(r["logs"] for r in self.history):
            save_figure(plot_curvature(self.history),
                        os.path.join(self.out_dir, "curvature.png"))
            if any(r["slices"] for r in self.history):
                save_figure(plot_slices(self.history), os.path.join(self.out_dir, "slices.png"))
        if self.out_dir and any(r.get("spectra") for r in self.history):
            for name in self.history[-1]["spectra"]:
                save_figure(plot_hessian_spectrum(self.history, player=name),
                            os.path.join(self.out_dir, f"spectrum_{name}.png"))

    def _save_figures(self, record):
        epoch = record["epoch"]
        if record["path_angle"] is not None:
            save_figure(plot_path_angle(record["path_angle"],
                                          title=f"path angle, epoch {epoch}"),
                        os.path.join(self.out_dir, f"path_angle_epoch{epoch:03d}.png"))
        for name, surface in record["surfaces"].items():
            save_figure(plot_surface(surface, title=f"{name}, epoch {epoch}"),
                        os.path.join(self.out_dir, f"surface_{name}_epoch{epoch:03d}.png"))
