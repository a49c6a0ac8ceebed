"""VAE: a ``keras.Model`` with the reparameterization trick and an annealable ``beta``."""

from __future__ import annotations

import keras
import numpy as np
from keras import ops

from tfgenopt import distribute
from tfgenopt._validation import check_choice, check_float, check_int
from tfgenopt.models import _sampling, _training
from tfgenopt.models._input import ArrayFitMixin

__all__ = ["VAE"]

_KEYS = ("loss", "reconstruction_loss", "kl_loss")


def reconstruction_loss(x, x_hat, kind="bce"):
    """Per-sample reconstruction loss summed over features, averaged over the batch.

    Args:
        x: the data (for ``"bce"`` in [0, 1]).
        x_hat: the decoder's output (probabilities for ``"bce"``).
        kind: ``"bce"`` (binary cross-entropy) or ``"mse"`` (squared error).

    Returns:
        A float32 scalar tensor.

    Example:
        >>> import numpy as np
        >>> float(reconstruction_loss(np.zeros((2, 3)), np.ones((2, 3)), "mse"))
        3.0
    """
    x = ops.cast(ops.convert_to_tensor(x), "float32")
    x_hat = ops.cast(ops.convert_to_tensor(x_hat), "float32")
    if kind == "bce":
        eps = 1e-7
        p = ops.clip(x_hat, eps, 1.0 - eps)
        per = -(x * ops.log(p) + (1.0 - x) * ops.log(1.0 - p))
    else:
        per = ops.square(x - x_hat)
    return ops.mean(ops.sum(ops.reshape(per, (ops.shape(per)[0], -1)), axis=1))


def kl_divergence(z_mean, z_log_var):
    """KL(N(mean, exp(log_var)) || N(0, I)) summed over the code, averaged over the batch.

    Args:
        z_mean: the encoder's means.
        z_log_var: the encoder's log-variances.

    Returns:
        A float32 scalar tensor.

    Example:
        >>> import numpy as np
        >>> float(kl_divergence(np.zeros((2, 2)), np.zeros((2, 2))))
        0.0
    """
    m = ops.cast(z_mean, "float32")
    lv = ops.cast(z_log_var, "float32")
    return ops.mean(-0.5 * ops.sum(1.0 + lv - ops.square(m) - ops.exp(lv), axis=1))


@keras.saving.register_keras_serializable(package="tfgenopt")
class VAE(ArrayFitMixin, keras.Model):
    """A variational autoencoder trained with ``fit(x)``: ``loss = reconstruction + beta * KL``.

    Args:
        encoder: a functional ``keras.Model`` from ``x`` to ``[z_mean, z_log_var]``.
        decoder: a functional ``keras.Model`` from ``z`` to a reconstruction of ``x``.
        beta: the KL weight; ``vae.beta`` is a non-trainable ``keras.Variable`` a callback can
            anneal with ``vae.beta.assign(value)`` (KL warm-up).
        reconstruction: ``"bce"`` (data in [0, 1], sigmoid decoder) or ``"mse"``.
        seed: seed of the reparameterization noise and of ``generate``.

    Returns:
        A ``keras.Model``; ``compile(optimizer)`` it and ``fit(x)``.

    Example:
        >>> import tfgenopt as tg
        >>> vae = VAE(tg.builders.vae_encoder(64, latent_dim=2),
        ...           tg.builders.vae_decoder(2, 64), beta=1.0, seed=0)
        >>> vae.compile("adam")
        >>> vae.generate(3, seed=0).shape
        (3, 64)
    """

    def __init__(self, encoder, decoder, beta=1.0, reconstruction="bce", seed=None, **kwargs):
        _training.check_network("encoder", encoder)
        _training.check_network("decoder", decoder)
        beta = check_float("beta", beta, 0.0)
        reconstruction = check_choice("reconstruction", reconstruction, ("bce", "mse"))
        if seed is not None:
            seed = check_int("seed", seed, minimum=0)
        if len(encoder.outputs) != 2:
            raise ValueError(f"`encoder` must output [z_mean, z_log_var]; it has "
                             f"{len(encoder.outputs)} outputs.")
        latent = _training.static_shape(encoder.outputs[0])
        if _training.static_shape(decoder.inputs[0]) != latent:
            raise ValueError(f"The encoder's code shape {latent} does not fit the decoder's "
                             f"input shape {_training.static_shape(decoder.inputs[0])}.")
        x_in, x_out = _training.static_shape(encoder.inputs[0]), _training.static_shape(decoder.outputs[0])
        if not _training.shapes_compatible(x_in, x_out):
            raise ValueError(f"The decoder's output shape {x_out} does not match the encoder's "
                             f"input shape {x_in}.")
        super().__init__(**kwargs)
        self.encoder = encoder
        self.decoder = decoder
        self.latent_dim = int(np.prod(latent))
        self.reconstruction = reconstruction
        self.seed = seed
        self.beta = keras.Variable(beta, dtype="float32", trainable=False, name="beta")
        self.seed_generator = distribute.ReplicaSeedGenerator(seed)  # own noise per replica
        self.trackers = {k: keras.metrics.Mean(name=k) for k in _KEYS}
        self.built = True

    def networks(self):
        """``{"encoder": encoder, "decoder": decoder}``."""
        return {"encoder": self.encoder, "decoder": self.decoder}

    @property
    def metrics(self):
        return [self.trackers[k] for k in _KEYS]

    def encode(self, x):
        """``(z_mean, z_log_var)`` of ``x`` (inference mode).

        Example:
            >>> z_mean, z_log_var = vae.encode(x[:4])
            >>> tuple(z_mean.shape), tuple(z_log_var.shape)
            ((4, 2), (4, 2))
        """
        z_mean, z_log_var = self.encoder(x, training=False)
        return z_mean, z_log_var

    def decode(self, z):
        """The decoder's output for codes ``z`` (inference mode).

        Example:
            >>> tuple(vae.decode(np.zeros((1, 2), "float32")).shape)
            (1, 64)
        """
        return self.decoder(z, training=False)

    def call(self, x, training=False):
        """The reconstruction of the mean code of ``x``."""
        z_mean, _ = self.encoder(x, training=training)
        return self.decoder(z_mean, training=training)

    def reconstruct(self, x):
        """The reconstruction of the mean code of ``x`` as a NumPy float32 array.

        Example:
            >>> vae.reconstruct(x[:4]).shape
            (4, 64)
        """
        return ops.convert_to_numpy(self(x, training=False)).astype("float32")

    def generate(self, n, seed=None, batch_size=256):
        """Decode ``n`` codes drawn from the standard normal prior, as NumPy float32.

        Args:
            n: number of samples.
            seed: an int for a reproducible draw; None uses the model's seed generator.
            batch_size: codes per decoder call.

        Returns:
            A ``np.ndarray`` of shape ``(n,) + data_shape``.

        Example:
            >>> vae.generate(8, seed=0).shape
            (8, 64)
        """
        n = check_int("n", n, minimum=1)
        z = _sampling.draw_noise(n, _training.static_shape(self.decoder.inputs[0]),
                                 self.seed_generator if seed is None else seed)
        return _sampling.in_batches(lambda zi, _: self.decode(zi), z, batch_size=batch_size)

    def _terms(self, x, z_mean, z_log_var, eps, training):
        z_mean, z_log_var = ops.cast(z_mean, "float32"), ops.cast(z_log_var, "float32")
        z = z_mean if eps is None else z_mean + ops.exp(0.5 * z_log_var) * eps
        x_hat = self.decoder(z, training=training)
        rec = reconstruction_loss(x, x_hat, self.reconstruction)
        kl = kl_divergence(z_mean, z_log_var)
        return {"reconstruction_loss": rec, "kl_loss": kl, "loss": rec + self.beta * kl}

    def elbo_terms(self, x, eps=None):
        """``reconstruction_loss``, ``kl_loss`` and ``loss`` on ``x`` (inference mode).

        Args:
            x: a batch of data.
            eps: standard normal noise of the code's shape; None uses ``z = z_mean``
                (deterministic, for landscape probes).

        Returns:
            A dict of float32 scalar tensors.

        Example:
            >>> sorted(vae.elbo_terms(x[:16]))
            ['kl_loss', 'loss', 'reconstruction_loss']
        """
        z_mean, z_log_var = self.encoder(x, training=False)
        return self._terms(x, z_mean, z_log_var, eps, training=False)

    def _sample_eps(self, z_mean):
        return keras.random.normal(ops.shape(z_mean), dtype="float32", seed=self.seed_generator)

    def _unpack(self, data):
        x, _ = _training.unpack(data)
        _training.check_sample_shape(x, self.encoder, "encoder")
        return ops.cast(x, "float32")

    def _record(self, values):
        for key in _KEYS:
            self.trackers[key].update_state(values[key])
        logs = {m.name: m.result() for m in self.metrics}
        logs["beta"] = ops.convert_to_tensor(self.beta)
        return distribute.reducible_logs(logs)

    def train_step(self, data):
        import tensorflow as tf

        x = self._unpack(data)
        with tf.GradientTape() as tape:
            z_mean, z_log_var = self.encoder(x, training=True)
            terms = self._terms(x, z_mean, z_log_var, self._sample_eps(z_mean), training=True)
            scaled = _training.objective(self.optimizer, terms["loss"])
        _training.minimize(self.optimizer, tape, scaled, self.trainable_variables)
        return self._record(terms)

    def test_step(self, data):
        x = self._unpack(data)
        z_mean, z_log_var = self.encoder(x, training=False)
        return self._record(self._terms(x, z_mean, z_log_var, self._sample_eps(z_mean), False))

    def get_config(self):
        return {
            "name": self.name,
            "trainable": self.trainable,
            **_training.networks_config(self, ("encoder", "decoder")),
            "beta": float(ops.convert_to_numpy(self.beta)),
            "reconstruction": self.reconstruction,
            "seed": self.seed,
        }

    @classmethod
    def from_config(cls, config):
        return _training.from_networks_config(cls, config, ("encoder", "decoder"))
