"""The keras.io "Denoising Diffusion Implicit Models" example's model, for side-by-side benchmarks.

Kept as close to the example as a Keras 3 port allows (A. Béres' DDIM example): the residual
U-Net with the noise-variance embedding concatenated at the input, BatchNorm without scale or
centre, swish, widths 32/64/96/128 and depth 2; data standardised by an adapted
``Normalization`` layer; cosine schedule as angles with signal rates 0.95 -> 0.02; the network
predicts the noise, MAE loss; AdamW (1e-3, weight decay 1e-4); an EMA network updated with 0.999
from the first step in its own loop; DDIM sampling with ``diffusion_steps`` steps, returning
the last predicted images. The benchmark's only additions: a ``seed`` for the draws and
``generate(n, seed, steps, use_ema)`` for scoring both the EMA and the raw network.
"""

from __future__ import annotations

import math

import keras
import numpy as np
import tensorflow as tf
from keras import layers, ops

MIN_SIGNAL_RATE, MAX_SIGNAL_RATE = 0.02, 0.95
EMBEDDING_DIMS, EMBEDDING_MAX_FREQUENCY = 32, 1000.0


@keras.saving.register_keras_serializable(package="bench_keras_io")
def sinusoidal_embedding(x):
    frequencies = ops.exp(ops.linspace(math.log(1.0), math.log(EMBEDDING_MAX_FREQUENCY),
                                       EMBEDDING_DIMS // 2))
    angular_speeds = ops.cast(2.0 * math.pi * frequencies, "float32")
    return ops.concatenate([ops.sin(angular_speeds * x), ops.cos(angular_speeds * x)], axis=3)


def residual_block(width):
    def apply(x):
        input_width = x.shape[3]
        residual = x if input_width == width else layers.Conv2D(width, kernel_size=1)(x)
        x = layers.BatchNormalization(center=False, scale=False)(x)
        x = layers.Conv2D(width, kernel_size=3, padding="same", activation="swish")(x)
        x = layers.Conv2D(width, kernel_size=3, padding="same")(x)
        return layers.Add()([x, residual])
    return apply


def down_block(width, block_depth):
    def apply(x):
        x, skips = x
        for _ in range(block_depth):
            x = residual_block(width)(x)
            skips.append(x)
        return layers.AveragePooling2D(pool_size=2)(x)
    return apply


def up_block(width, block_depth):
    def apply(x):
        x, skips = x
        x = layers.UpSampling2D(size=2, interpolation="bilinear")(x)
        for _ in range(block_depth):
            x = layers.Concatenate()([x, skips.pop()])
            x = residual_block(width)(x)
        return x
    return apply


def get_network(image_size, channels, widths=(32, 64, 96, 128), block_depth=2):
    noisy_images = keras.Input(shape=(image_size, image_size, channels))
    noise_variances = keras.Input(shape=(1, 1, 1))
    e = layers.Lambda(sinusoidal_embedding, output_shape=(1, 1, 32))(noise_variances)
    e = layers.UpSampling2D(size=image_size, interpolation="nearest")(e)
    x = layers.Conv2D(widths[0], kernel_size=1)(noisy_images)
    x = layers.Concatenate()([x, e])
    skips = []
    for width in widths[:-1]:
        x = down_block(width, block_depth)([x, skips])
    for _ in range(block_depth):
        x = residual_block(widths[-1])(x)
    for width in reversed(widths[:-1]):
        x = up_block(width, block_depth)([x, skips])
    x = layers.Conv2D(channels, kernel_size=1, kernel_initializer="zeros")(x)
    return keras.Model([noisy_images, noise_variances], x, name="residual_unet")


class KerasIODDIM(keras.Model):
    def __init__(self, image_size, channels, widths=(32, 64, 96, 128), block_depth=2, ema=0.999,
                 seed=0):
        super().__init__()
        self.image_size, self.channels, self.ema = image_size, channels, ema
        self.normalizer = layers.Normalization()
        self.network = get_network(image_size, channels, widths, block_depth)
        self.ema_network = keras.models.clone_model(self.network)
        self.seed_generator = keras.random.SeedGenerator(seed)

    def compile(self, **kwargs):
        super().compile(**kwargs)
        self.noise_loss_tracker = keras.metrics.Mean(name="n_loss")

    @property
    def metrics(self):
        return [self.noise_loss_tracker]

    def denormalize(self, images):
        images = self.normalizer.mean + images * self.normalizer.variance ** 0.5
        return ops.clip(images, 0.0, 1.0)

    def diffusion_schedule(self, diffusion_times):
        start_angle = ops.cast(ops.arccos(MAX_SIGNAL_RATE), "float32")
        end_angle = ops.cast(ops.arccos(MIN_SIGNAL_RATE), "float32")
        diffusion_angles = start_angle + diffusion_times * (end_angle - start_angle)
        return ops.sin(diffusion_angles), ops.cos(diffusion_angles)  # noise, signal rates

    def denoise(self, noisy_images, noise_rates, signal_rates, training, network=None):
        network = network or (self.network if training else self.ema_network)
        pred_noises = network([noisy_images, noise_rates ** 2], training=training)
        pred_images = (noisy_images - noise_rates * pred_noises) / signal_rates
        return pred_noises, pred_images

    def reverse_diffusion(self, initial_noise, diffusion_steps, network=None):
        num_images = initial_noise.shape[0]
        step_size = 1.0 / diffusion_steps
        next_noisy_images = initial_noise
        for step in range(diffusion_steps):
            noisy_images = next_noisy_images
            diffusion_times = ops.ones((num_images, 1, 1, 1)) - step * step_size
            noise_rates, signal_rates = self.diffusion_schedule(diffusion_times)
            pred_noises, pred_images = self.denoise(noisy_images, noise_rates, signal_rates,
                                                    training=False, network=network)
            next_diffusion_times = diffusion_times - step_size
            next_noise_rates, next_signal_rates = self.diffusion_schedule(next_diffusion_times)
            next_noisy_images = next_signal_rates * pred_images + next_noise_rates * pred_noises
        return pred_images

    def generate(self, n, seed=0, steps=20, use_ema=True, batch_size=250):
        network = self.ema_network if use_ema else self.network
        noise = keras.random.normal((n, self.image_size, self.image_size, self.channels),
                                    seed=seed)
        out = [self.denormalize(self.reverse_diffusion(noise[i:i + batch_size], steps, network))
               for i in range(0, n, batch_size)]
        return np.concatenate([ops.convert_to_numpy(o) for o in out])

    def train_step(self, images):
        images = self.normalizer(images, training=True)
        batch = ops.shape(images)[0]
        noises = keras.random.normal(ops.shape(images), seed=self.seed_generator)
        diffusion_times = keras.random.uniform((batch, 1, 1, 1), minval=0.0, maxval=1.0,
                                               seed=self.seed_generator)
        noise_rates, signal_rates = self.diffusion_schedule(diffusion_times)
        noisy_images = signal_rates * images + noise_rates * noises
        with tf.GradientTape() as tape:
            pred_noises, _ = self.denoise(noisy_images, noise_rates, signal_rates, training=True)
            noise_loss = self.loss(noises, pred_noises)
        gradients = tape.gradient(noise_loss, self.network.trainable_weights)
        self.optimizer.apply_gradients(zip(gradients, self.network.trainable_weights))
        self.noise_loss_tracker.update_state(noise_loss)
        for weight, ema_weight in zip(self.network.weights, self.ema_network.weights):
            ema_weight.assign(self.ema * ema_weight + (1 - self.ema) * weight)
        return {m.name: m.result() for m in self.metrics}


def build(images, seed=0, widths=(32, 64, 96, 128)):
    """The keras.io model for ``images`` (n, s, s, c) in [0, 1], compiled as in the example."""
    keras.utils.set_random_seed(seed)
    model = KerasIODDIM(images.shape[1], images.shape[3], widths=widths, seed=seed)
    model.compile(optimizer=keras.optimizers.AdamW(learning_rate=1e-3, weight_decay=1e-4),
                  loss=keras.losses.mean_absolute_error)
    model.normalizer.adapt(images)
    return model
