"""Old home of the builder blocks; they live in :mod:`cnnlab.layers.blocks` now. Kept so that
``from cnnlab.blocks import ResidualBlock`` keeps working.
"""

from cnnlab.layers.blocks import Branches, Concatenate, InceptionModule, Residual, ResidualBlock

__all__ = ["ResidualBlock", "InceptionModule", "Concatenate", "Residual", "Branches"]
