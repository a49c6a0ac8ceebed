"""Training models (``keras.Model`` subclasses that own a ``train_step``) and their protocol."""

from tfgenopt.models import protocol
from tfgenopt.models.diffusion import Diffusion
from tfgenopt.models.diffusion_recipe import DiffusionRecipe
from tfgenopt.models.gan import GAN
from tfgenopt.models.recipe import GANRecipe
from tfgenopt.models.vae import VAE

__all__ = ["protocol", "GAN", "GANRecipe", "VAE", "Diffusion", "DiffusionRecipe"]
