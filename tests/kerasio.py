"""The three keras.io generative examples, written out as a user would bring them.

The shapes follow keras.io's "DCGAN overriding train_step", "WGAN-GP overriding train_step"
and "Variational AutoEncoder" examples (trimmed to tiny dense nets on flat 8x8 digits): the
networks are plain attributes, the real optimizers are ``d_optimizer`` / ``g_optimizer`` set
in ``compile`` after ``super().compile()`` (which leaves an unused ``model.optimizer``), and
nothing calls ``self(...)``, so Keras never marks the model built. tfgenopt's callbacks must
work on them through :mod:`tfgenopt.models.protocol` without any change to these classes.
"""

from __future__ import annotations

import keras
import tensorflow as tf
from keras import layers, ops

DIM = 64     # flat 8x8 digits
LATENT = 4


def generator(activation="sigmoid", latent_dim=LATENT):
    return keras.Sequential([keras.Input((latent_dim,)), layers.Dense(16, activation="relu"),
                             layers.Dense(DIM, activation=activation)], name="generator")


def discriminator(activation=None):
    return keras.Sequential([keras.Input((DIM,)), layers.Dense(16),
                             layers.LeakyReLU(0.2), layers.Dense(1, activation=activation)],
                            name="discriminator")


class DCGAN(keras.Model):
    """keras.io "DCGAN overriding train_step" (fake labelled 1, real 0, sigmoid D)."""

    def __init__(self, discriminator, generator, latent_dim):
        super().__init__()
        self.discriminator = discriminator
        self.generator = generator
        self.latent_dim = latent_dim
        self.seed_generator = keras.random.SeedGenerator(1337)

    def compile(self, d_optimizer, g_optimizer, loss_fn):
        super().compile()
        self.d_optimizer = d_optimizer
        self.g_optimizer = g_optimizer
        self.loss_fn = loss_fn
        self.d_loss_metric = keras.metrics.Mean(name="d_loss")
        self.g_loss_metric = keras.metrics.Mean(name="g_loss")

    @property
    def metrics(self):
        return [self.d_loss_metric, self.g_loss_metric]

    def train_step(self, real_images):
        batch_size = ops.shape(real_images)[0]
        z = keras.random.normal((batch_size, self.latent_dim), seed=self.seed_generator)
        generated = self.generator(z)
        combined = ops.concatenate([generated, real_images], axis=0)
        labels = ops.concatenate([ops.ones((batch_size, 1)), ops.zeros((batch_size, 1))], axis=0)
        labels += 0.05 * keras.random.uniform(ops.shape(labels), seed=self.seed_generator)
        with tf.GradientTape() as tape:
            d_loss = self.loss_fn(labels, self.discriminator(combined))
        grads = tape.gradient(d_loss, self.discriminator.trainable_weights)
        self.d_optimizer.apply_gradients(zip(grads, self.discriminator.trainable_weights))
        z = keras.random.normal((batch_size, self.latent_dim), seed=self.seed_generator)
        with tf.GradientTape() as tape:
            g_loss = self.loss_fn(ops.zeros((batch_size, 1)),
                                  self.discriminator(self.generator(z)))
        grads = tape.gradient(g_loss, self.generator.trainable_weights)
        self.g_optimizer.apply_gradients(zip(grads, self.generator.trainable_weights))
        self.d_loss_metric.update_state(d_loss)
        self.g_loss_metric.update_state(g_loss)
        return {"d_loss": self.d_loss_metric.result(), "g_loss": self.g_loss_metric.result()}


def discriminator_loss(real_img, fake_img):
    return ops.mean(fake_img) - ops.mean(real_img)


def generator_loss(fake_img):
    return -ops.mean(fake_img)


class WGAN(keras.Model):
    """keras.io "WGAN-GP overriding train_step" (``d_steps`` critic updates, GP weight 10)."""

    def __init__(self, discriminator, generator, latent_dim, discriminator_extra_steps=3,
                 gp_weight=10.0):
        super().__init__()
        self.discriminator = discriminator
        self.generator = generator
        self.latent_dim = latent_dim
        self.d_steps = discriminator_extra_steps
        self.gp_weight = gp_weight

    def compile(self, d_optimizer, g_optimizer, d_loss_fn, g_loss_fn):
        super().compile()
        self.d_optimizer = d_optimizer
        self.g_optimizer = g_optimizer
        self.d_loss_fn = d_loss_fn
        self.g_loss_fn = g_loss_fn

    def gradient_penalty(self, batch_size, real_images, fake_images):
        alpha = tf.random.uniform([batch_size, 1], 0.0, 1.0)
        interpolated = real_images + alpha * (fake_images - real_images)
        with tf.GradientTape() as gp_tape:
            gp_tape.watch(interpolated)
            pred = self.discriminator(interpolated, training=True)
        grads = gp_tape.gradient(pred, [interpolated])[0]
        norm = tf.sqrt(tf.reduce_sum(tf.square(grads), axis=[1]))
        return tf.reduce_mean((norm - 1.0) ** 2)

    def train_step(self, real_images):
        if isinstance(real_images, tuple):
            real_images = real_images[0]
        batch_size = tf.shape(real_images)[0]
        for _ in range(self.d_steps):
            z = tf.random.normal(shape=(batch_size, self.latent_dim))
            with tf.GradientTape() as tape:
                fake_images = self.generator(z, training=True)
                fake_logits = self.discriminator(fake_images, training=True)
                real_logits = self.discriminator(real_images, training=True)
                d_cost = self.d_loss_fn(real_img=real_logits, fake_img=fake_logits)
                gp = self.gradient_penalty(batch_size, real_images, fake_images)
                d_loss = d_cost + gp * self.gp_weight
            d_gradient = tape.gradient(d_loss, self.discriminator.trainable_variables)
            self.d_optimizer.apply_gradients(
                zip(d_gradient, self.discriminator.trainable_variables))
        z = tf.random.normal(shape=(batch_size, self.latent_dim))
        with tf.GradientTape() as tape:
            generated = self.generator(z, training=True)
            g_loss = self.g_loss_fn(self.discriminator(generated, training=True))
        gen_gradient = tape.gradient(g_loss, self.generator.trainable_variables)
        self.g_optimizer.apply_gradients(zip(gen_gradient, self.generator.trainable_variables))
        return {"d_loss": d_loss, "g_loss": g_loss}


class Sampling(layers.Layer):
    """keras.io's reparameterization layer: ``z = z_mean + exp(z_log_var / 2) * eps``."""

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.seed_generator = keras.random.SeedGenerator(1337)

    def call(self, inputs):
        z_mean, z_log_var = inputs
        eps = keras.random.normal(ops.shape(z_mean), seed=self.seed_generator)
        return z_mean + ops.exp(0.5 * z_log_var) * eps


def encoder(latent_dim=LATENT):
    inputs = keras.Input((DIM,))
    h = layers.Dense(16, activation="relu")(inputs)
    z_mean = layers.Dense(latent_dim, name="z_mean")(h)
    z_log_var = layers.Dense(latent_dim, name="z_log_var")(h)
    return keras.Model(inputs, [z_mean, z_log_var, Sampling()([z_mean, z_log_var])],
                       name="encoder")


def decoder(latent_dim=LATENT):
    return keras.Sequential([keras.Input((latent_dim,)), layers.Dense(16, activation="relu"),
                             layers.Dense(DIM, activation="sigmoid")], name="decoder")


class VAE(keras.Model):
    """keras.io "Variational AutoEncoder" (its own loss trackers, ``model.optimizer``)."""

    def __init__(self, encoder, decoder, **kwargs):
        super().__init__(**kwargs)
        self.encoder = encoder
        self.decoder = decoder
        self.total_loss_tracker = keras.metrics.Mean(name="total_loss")
        self.reconstruction_loss_tracker = keras.metrics.Mean(name="reconstruction_loss")
        self.kl_loss_tracker = keras.metrics.Mean(name="kl_loss")

    @property
    def metrics(self):
        return [self.total_loss_tracker, self.reconstruction_loss_tracker, self.kl_loss_tracker]

    def train_step(self, data):
        with tf.GradientTape() as tape:
            z_mean, z_log_var, z = self.encoder(data)
            reconstruction = self.decoder(z)
            reconstruction_loss = ops.mean(ops.sum(
                keras.losses.binary_crossentropy(data[..., None], reconstruction[..., None]),
                axis=1))
            kl_loss = -0.5 * (1 + z_log_var - ops.square(z_mean) - ops.exp(z_log_var))
            kl_loss = ops.mean(ops.sum(kl_loss, axis=1))
            total_loss = reconstruction_loss + kl_loss
        grads = tape.gradient(total_loss, self.trainable_weights)
        self.optimizer.apply_gradients(zip(grads, self.trainable_weights))
        self.total_loss_tracker.update_state(total_loss)
        self.reconstruction_loss_tracker.update_state(reconstruction_loss)
        self.kl_loss_tracker.update_state(kl_loss)
        return {"loss": self.total_loss_tracker.result(),
                "reconstruction_loss": self.reconstruction_loss_tracker.result(),
                "kl_loss": self.kl_loss_tracker.result()}


def dcgan(lr=(1e-3, 1e-3)):
    model = DCGAN(discriminator(activation="sigmoid"), generator(), LATENT)
    model.compile(d_optimizer=keras.optimizers.Adam(lr[0]),
                  g_optimizer=keras.optimizers.Adam(lr[1]),
                  loss_fn=keras.losses.BinaryCrossentropy())
    return model


def wgan(lr=(1e-3, 5e-4), d_steps=2):
    model = WGAN(discriminator(), generator(), LATENT, discriminator_extra_steps=d_steps)
    model.compile(d_optimizer=keras.optimizers.Adam(lr[0], beta_1=0.5, beta_2=0.9),
                  g_optimizer=keras.optimizers.Adam(lr[1], beta_1=0.5, beta_2=0.9),
                  d_loss_fn=discriminator_loss, g_loss_fn=generator_loss)
    return model


def vae(lr=1e-3):
    model = VAE(encoder(), decoder())
    model.compile(optimizer=keras.optimizers.Adam(lr))
    return model
