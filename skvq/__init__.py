"""Image vector quantization for scikit-learn.

skvq learns one codebook shared by all the pixels of images (gray levels or
colours), encodes pixels to compact integer codes, packs them into bits and
palette PNG files, and decodes them back.
"""

from importlib import import_module as _import_module

from ._version import __version__

__all__ = [
    "AnimationInfo",
    "Codebook",
    "ImageVectorQuantizer",
    "PixelSummary",
    "__version__",
    "decode",
    "dither",
    "dither_frames",
    "encode",
    "iter_frames",
    "learn_codebook",
    "learn_codebook_from_frames",
    "mean_squared_error",
    "merge_summaries",
    "pack_codes",
    "read_animation",
    "read_animation_info",
    "read_palette_png",
    "smoothness_weights",
    "summarize",
    "unpack_codes",
    "write_animation",
    "write_palette_png",
]

# Each public name is imported from its module on first use (PEP 562), so
# that "import skvq" and the command line's --help do not pay for
# scikit-learn, SciPy and Pillow before they are needed. The functions of
# the core (skvq._quantize) never import scikit-learn, SciPy or pandas; only
# ImageVectorQuantizer does.
_MODULE_OF = {
    "AnimationInfo": "._animation",
    "iter_frames": "._animation",
    "read_animation": "._animation",
    "read_animation_info": "._animation",
    "write_animation": "._animation",
    "Codebook": "._quantize",
    "ImageVectorQuantizer": "._quantizer",
    "PixelSummary": "._quantize",
    "decode": "._quantize",
    "dither": "._quantize",
    "dither_frames": "._quantize",
    "encode": "._quantize",
    "learn_codebook": "._quantize",
    "learn_codebook_from_frames": "._quantize",
    "mean_squared_error": "._quantize",
    "merge_summaries": "._quantize",
    "smoothness_weights": "._quantize",
    "summarize": "._quantize",
    "pack_codes": "._packing",
    "read_palette_png": "._png",
    "unpack_codes": "._packing",
    "write_palette_png": "._png",
}


def __getattr__(name):
    if name not in _MODULE_OF:
        raise AttributeError(f"module 'skvq' has no attribute {name!r}")
    value = getattr(_import_module(_MODULE_OF[name], __name__), name)
    globals()[name] = value
    return value


def __dir__():
    # The public names, and the submodules imported so far (skvq.exceptions).
    public = {name for name in globals() if not name.startswith("_")}
    return sorted(public | set(__all__))
