"""Keras callbacks that watch a run and act on it; thin layers over the modules they call."""

from tfgenopt.callbacks._monitor import MonitorCallback
from tfgenopt.callbacks.budget import CPUBudget
from tfgenopt.callbacks.collapse import CollapseMonitor
from tfgenopt.callbacks.cosine import EpochCosineDecay
from tfgenopt.callbacks.early_stopping import EarlyStopping
from tfgenopt.callbacks.landscape import LossLandscape
from tfgenopt.callbacks.lr import LearningRateLogger, LRFinder, ReduceLROnPlateau, lr_find
from tfgenopt.callbacks.quality import QualityMonitor
from tfgenopt.callbacks.samples import SampleGrid
from tfgenopt.callbacks.tensorboard import TensorBoard
from tfgenopt.callbacks.vae import KLWarmup

__all__ = ["QualityMonitor", "LossLandscape", "EarlyStopping", "ReduceLROnPlateau",
           "LearningRateLogger", "LRFinder", "lr_find", "SampleGrid", "KLWarmup",
           "CollapseMonitor", "TensorBoard", "MonitorCallback", "EpochCosineDecay", "CPUBudget"]
