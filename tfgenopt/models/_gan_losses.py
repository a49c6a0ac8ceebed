"""The GAN's pure adversarial losses in inference mode, for probes (landscape, curvature)."""

from __future__ import annotations


class PureLossesMixin:
    """``discriminator_loss`` / ``generator_loss`` of a ``GAN``: no penalty, smoothing, noise or
    augmentation, deterministic given their inputs (the landscape probes differentiate them)."""

    def discriminator_loss(self, x_real, z, labels=None):
        """The pure adversarial discriminator loss (no penalty/smoothing/noise, inference mode).

        Args:
            x_real: a batch of real images.
            z: noise of shape ``(batch, latent_dim)``.
            labels: class labels (conditional GAN only).

        Returns:
            A float32 scalar tensor, deterministic given its inputs.

        Example:
            >>> z = gan.sample_noise(8, seed=0)
            >>> float(gan.discriminator_loss(x[:8], z)) == float(gan.discriminator_loss(x[:8], z))
            True
        """
        x_fake = self.generator(self._g_inputs(z, labels), training=False)
        real = self.discriminator(self._d_inputs(x_real, labels), training=False)
        fake = self.discriminator(self._d_inputs(x_fake, labels), training=False)
        return self.adversarial_loss.d_loss(real, fake, 0.0)

    def generator_loss(self, z, labels=None, x_real=None):
        """The pure adversarial generator loss (inference mode), deterministic given ``z``.

        Args:
            z: noise of shape ``(batch, latent_dim)``.
            labels: class labels (conditional GAN only).
            x_real: real images; required by losses that compare fakes with reals
                (``"relativistic_average"``), ignored otherwise.

        Returns:
            A float32 scalar tensor.

        Example:
            >>> gan.generator_loss(gan.sample_noise(8, seed=0)).shape
            TensorShape([])
        """
        x_fake = self.generator(self._g_inputs(z, labels), training=False)
        fake = self.discriminator(self._d_inputs(x_fake, labels), training=False)
        if not self.adversarial_loss.g_needs_real:
            return self.adversarial_loss.g_loss(fake)
        if x_real is None:
            raise ValueError(f"The {self.adversarial_loss.name!r} generator loss compares fakes "
                             f"with real images: pass `x_real`.")
        real = self.discriminator(self._d_inputs(x_real, labels), training=False)
        return self.adversarial_loss.g_loss(fake, real)
