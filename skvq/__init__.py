"""Image vector quantization for scikit-learn.

skvq learns one codebook shared by all the pixels of images (gray levels or
colours), encodes pixels to compact integer codes, packs them into bits and
palette PNG files, and decodes them back.
"""

from ._packing import pack_codes, unpack_codes
from ._png import read_palette_png, write_palette_png
from ._quantizer import ImageVectorQuantizer
from ._version import __version__

__all__ = [
    "ImageVectorQuantizer",
    "__version__",
    "pack_codes",
    "read_palette_png",
    "unpack_codes",
    "write_palette_png",
]
