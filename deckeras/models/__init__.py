"""Deep clustering models on the shared ``DeepClusterer`` base."""
from .base import DeepClusterer
from .dec import DEC, target_distribution
from .dcn import DCN
from .n2d import N2D

__all__ = ["DeepClusterer", "DEC", "DCN", "N2D", "target_distribution"]
