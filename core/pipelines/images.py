"""Reading people's images, for the tabs: one size limit and one set of messages for every input;
and model tensors back to images."""
from ..data.images import MAX_PIXELS, ImageError, open_image, peek, tensor_to_pil

__all__ = ["MAX_PIXELS", "ImageError", "open_image", "peek", "tensor_to_pil"]
