"""Reading people's images, for the tabs: one size limit and one set of messages for every input."""
from ..data.images import MAX_PIXELS, ImageError, open_image, peek

__all__ = ["MAX_PIXELS", "ImageError", "open_image", "peek"]
