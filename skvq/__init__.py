"""Image vector quantization for scikit-learn.

skvq learns one codebook shared by all the pixels of images (gray levels or
colours), encodes pixels to compact integer codes and decodes them back.
"""

from ._quantizer import ImageVectorQuantizer
from ._version import __version__

__all__ = ["ImageVectorQuantizer", "__version__"]
