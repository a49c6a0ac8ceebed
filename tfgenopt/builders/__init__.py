"""Functions that return ``keras.Model``s; no training logic lives here."""

from tfgenopt.builders._blocks import known_initializers
from tfgenopt.builders.conv import (
    conv_autoencoder,
    dcgan_discriminator,
    dcgan_generator,
    vae_decoder,
    vae_encoder,
)
from tfgenopt.builders.dense import dense_autoencoder, dense_discriminator, dense_generator
from tfgenopt.builders.unet import unet

__all__ = [
    "dense_autoencoder",
    "dense_generator",
    "dense_discriminator",
    "dcgan_generator",
    "dcgan_discriminator",
    "conv_autoencoder",
    "vae_encoder",
    "vae_decoder",
    "unet",
    "known_initializers",
]
