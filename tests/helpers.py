"""Shared test helpers: the config round-trip and `.keras` save/load checks, tiny models."""

from __future__ import annotations

import os
import warnings

import keras
import numpy as np


def check_config_roundtrip(obj):
    """``from_config(get_config())`` gives an object with the same config; returns the copy."""
    config = obj.get_config()
    clone = obj.__class__.from_config(config)
    assert clone.get_config() == config
    return clone


def check_keras_roundtrip(model, inputs, tmp_path, call=None, atol=0.0):
    """Save ``model`` as ``.keras``, reload it with no warning, and compare outputs on ``inputs``.

    ``call(model, inputs)`` computes the compared output (default: ``model(inputs)``).
    Returns the reloaded model.
    """
    call = call or (lambda m, x: m(x, training=False))
    path = os.path.join(os.fspath(tmp_path), "model.keras")
    expected = keras.ops.convert_to_numpy(call(model, inputs))
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        model.save(path)
        loaded = keras.saving.load_model(path)
    relevant = [w for w in caught if issubclass(w.category, UserWarning)]
    assert not relevant, [str(w.message) for w in relevant]
    got = keras.ops.convert_to_numpy(call(loaded, inputs))
    np.testing.assert_allclose(got, expected, atol=atol, rtol=0)
    return loaded


def tiny_gan(latent_dim=4, dim=16, hidden=(8,), seed=0, net_seeds=None, ema=0.999,
             num_classes=None, lr=None, compile=True, cls=None, **compile_kwargs):
    """The tests' small dense GAN: ``dense_generator`` / ``dense_discriminator`` in a ``GAN``.

    Args:
        latent_dim, dim, hidden: the noise size, the sample size and the hidden widths of both
            networks.
        seed: the GAN's seed; ``net_seeds`` ``(generator, discriminator)`` default to
            ``(seed, seed + 1)``.
        ema, num_classes: as ``GAN`` (``num_classes`` makes a conditional GAN).
        lr: None, or one learning rate or a ``(d, g)`` pair: ``Adam`` optimizers of those rates.
        compile: False leaves the GAN uncompiled; otherwise ``compile(**compile_kwargs)``.
        cls: a ``GAN`` subclass to build instead.
    """
    import tfgenopt as tg

    g_seed, d_seed = (seed, None if seed is None else seed + 1) if net_seeds is None else net_seeds
    g = tg.builders.dense_generator(latent_dim=latent_dim, hidden=hidden, output_dim=dim,
                                    num_classes=num_classes, seed=g_seed)
    d = tg.builders.dense_discriminator(input_dim=dim, hidden=hidden, num_classes=num_classes,
                                        seed=d_seed)
    gan = (cls or tg.models.GAN)(g, d, latent_dim=latent_dim, ema=ema,
                                 conditional=num_classes is not None, num_classes=num_classes,
                                 seed=seed)
    if lr is not None:
        d_lr, g_lr = lr if isinstance(lr, tuple) else (lr, lr)
        compile_kwargs = {"d_optimizer": keras.optimizers.Adam(d_lr),
                          "g_optimizer": keras.optimizers.Adam(g_lr), **compile_kwargs}
    if compile:
        gan.compile(**compile_kwargs)
    return gan


def tiny_vae(dim=16, latent_dim=2, hidden=(8,), seed=0, net_seeds=None, optimizer=None,
             compile_kwargs=None, **vae_kwargs):
    """The tests' small dense VAE: ``vae_encoder`` / ``vae_decoder`` in a ``VAE``.

    ``net_seeds`` ``(encoder, decoder)`` default to ``(seed, seed + 1)``; with an
    ``optimizer`` it is compiled (with ``compile_kwargs``); ``vae_kwargs`` go to ``VAE``.
    """
    import tfgenopt as tg

    enc_seed, dec_seed = ((seed, None if seed is None else seed + 1) if net_seeds is None
                          else net_seeds)
    vae = tg.models.VAE(tg.builders.vae_encoder(dim, latent_dim=latent_dim, hidden=hidden,
                                                seed=enc_seed),
                        tg.builders.vae_decoder(latent_dim, dim, hidden=hidden, seed=dec_seed),
                        seed=seed, **vae_kwargs)
    if optimizer is not None:
        vae.compile(optimizer, **(compile_kwargs or {}))
    return vae


def tiny_autoencoder(dim=16, hidden=(4,), seed=0, optimizer="adam", loss="mse"):
    """The tests' small ``dense_autoencoder``, compiled (``optimizer=None``: not compiled)."""
    import tfgenopt as tg

    ae = tg.builders.dense_autoencoder(input_dim=dim, hidden=hidden, seed=seed)
    if optimizer is not None:
        ae.compile(optimizer, loss)
    return ae
