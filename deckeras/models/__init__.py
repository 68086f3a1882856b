"""Deep clustering models on the shared ``DeepClusterer`` base."""
from .base import DeepClusterer
from .dec import DEC, target_distribution
from .dcn import DCN

__all__ = ["DeepClusterer", "DEC", "DCN", "target_distribution"]
