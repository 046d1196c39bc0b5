"""Hostile inputs, made in code (nothing is committed): broken and exotic image files, numbers and
strings that no sane client sends, and forged event data for .select events.

`tests/test_hostile.py` sends these to every endpoint of the running app. Each case is a `Case`
(a short name for failure reports plus the value). Image cases are files written into a folder by
`write_images`; the test uploads them and turns them into Gradio FileData itself.
"""
from __future__ import annotations

import io
import math
import struct
import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image

LONG = "x" * 10_000
HUGE_INT = 10**30


@dataclass(frozen=True)
class Case:
    """One hostile value. `json_safe` is False for values that standard JSON cannot carry (NaN,
    ±inf): gradio_client refuses to encode those, so only the raw-HTTP pass sends them."""

    name: str
    value: Any
    json_safe: bool = True


# ---- scalars ---------------------------------------------------------------------------------

NUMBERS = [
    Case("nan", math.nan, json_safe=False),
    Case("+inf", math.inf, json_safe=False),
    Case("-inf", -math.inf, json_safe=False),
    Case("1e308", 1e308),
    Case("-1e308", -1e308),
    Case("10**30", HUGE_INT),
    Case("negative", -7),
    Case("zero", 0),
    Case("str abc", "abc"),
    Case("empty str", ""),
    Case("None", None),
    Case("list", [1, 2]),
    Case("dict", {"a": 1}),
]

STRINGS = [
    Case("10k chars", LONG),
    Case("RTL", "\u202e\u05e9\u05dc\u05d5\u05dd \u0645\u0631\u062d\u0628\u0627"),
    Case("emoji", "😀👍🏽🏳️‍🌈"),
    Case("NUL", "a\x00b"),
    Case("../../etc/passwd", "../../etc/passwd"),
    Case("/etc/passwd", "/etc/passwd"),
    Case("empty str", ""),
    Case("None", None),
    Case("int", 12345),
    Case("nan", math.nan, json_safe=False),
    Case("list", ["a", "b"]),
    Case("dict", {"a": 1}),
]

BOOLEANS = [
    Case("None", None),
    Case("str abc", "abc"),
    Case("int 2", 2),
    Case("list", [True]),
    Case("dict", {"a": 1}),
    Case("nan", math.nan, json_safe=False),
]

# The few scalar cases the gradio_client pass sends (the raw-HTTP pass sends them all).
CLIENT_SAMPLE = {"10**30", "str abc", "None", "10k chars", "emoji", "dict"}

# Generic junk for component types the corpus has no special list for.
JUNK = [
    Case("None", None),
    Case("10k chars", LONG),
    Case("10**30", HUGE_INT),
    Case("list", [1, 2]),
    Case("dict", {"a": 1}),
]

# gr.SelectData's `index` in a forged event_data (the rest of the dict is well-formed).
SELECT_INDICES = [
    Case("index 999", 999),
    Case("index -1", -1),
    Case("index 'abc'", "abc"),
    Case("index None", None),
    Case("index 10**30", HUGE_INT),
    Case("index -10**30", -HUGE_INT),
    Case("index 1.5", 1.5),
    Case("index [1, 2]", [1, 2]),
    Case("index nan", math.nan, json_safe=False),
    # An image's select event carries [x, y] pixel coordinates (e.g. the GAN playground's drawing pad).
    Case("index [x, y] far outside", [10**6, -5]),
    Case("index [x, y] 10**30", [HUGE_INT, HUGE_INT]),
    Case("index [nan, y]", [math.nan, 3], json_safe=False),
    Case("index ['a', y]", ["a", 3]),
    Case("index [x, y, z]", [1, 2, 3]),
    Case("index [true, y]", [True, 3]),
]


# ---- image files -----------------------------------------------------------------------------

def _png_chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)


def png_bomb(side: int = 12000) -> bytes:
    """A valid greyscale PNG of side x side zero pixels: ~140 KB on disk, side² bytes decoded (plus
    whatever RGB/RGBA conversions the reader does)."""
    row = b"\x00" + b"\x00" * side  # filter byte + pixels
    comp = zlib.compressobj(9)
    body = b"".join(comp.compress(row) for _ in range(side)) + comp.flush()
    ihdr = struct.pack(">IIBBBBB", side, side, 8, 0, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + _png_chunk(b"IHDR", ihdr) + _png_chunk(b"IDAT", body) + _png_chunk(b"IEND", b"")


def _encode(img: Image.Image, fmt: str, **kw) -> bytes:
    buf = io.BytesIO()
    img.save(buf, fmt, **kw)
    return buf.getvalue()


def jpeg_declaring(width: int, height: int) -> bytes:
    """A small JPEG whose SOF header claims width x height (the scan data stays 16x16)."""
    data = bytearray(_encode(Image.new("RGB", (16, 16), "gray"), "JPEG"))
    i = 2
    while i < len(data):
        marker, length = data[i + 1], struct.unpack(">H", data[i + 2:i + 4])[0]
        if marker in (0xC0, 0xC1, 0xC2):
            data[i + 5:i + 9] = struct.pack(">HH", height, width)
            return bytes(data)
        i += 2 + length
    raise AssertionError("no SOF marker")


def gif_declaring(width: int, height: int) -> bytes:
    """A 1x1 GIF whose logical screen claims width x height."""
    data = bytearray(_encode(Image.new("P", (1, 1)), "GIF"))
    data[6:10] = struct.pack("<HH", width, height)
    return bytes(data)


def bmp_declaring(width: int, height: int) -> bytes:
    """A BMP header claiming width x height at 24 bits, with almost no pixel data."""
    header = struct.pack("<2sIHHI", b"BM", 54 + 16, 0, 0, 54)
    info = struct.pack("<IiiHHIIiiII", 40, width, height, 1, 24, 0, 0, 2835, 2835, 0, 0)
    return header + info + b"\x00" * 16


def tiff_declaring(width: int, height: int) -> bytes:
    """A little-endian TIFF (8-bit grey, one strip) whose tags claim width x height."""
    entries = [(256, 4, 1, width), (257, 4, 1, height), (258, 3, 1, 8), (259, 3, 1, 1), (262, 3, 1, 1),
               (273, 4, 1, 8 + 2 + 12 * 9 + 4), (277, 3, 1, 1), (278, 4, 1, height), (279, 4, 1, 16)]
    ifd = struct.pack("<H", len(entries))
    for tag, typ, count, value in entries:
        ifd += struct.pack("<HHII", tag, typ, count, value) if typ == 4 else struct.pack("<HHIHH", tag, typ, count, value, 0)
    ifd += struct.pack("<I", 0)
    return b"II*\x00" + struct.pack("<I", 8) + ifd + b"\x00" * 16


def _photo(width: int, height: int) -> Image.Image:
    """A smooth colour picture (compresses well, so even 48 MP stays under the upload limit)."""
    x = np.linspace(0, 255, width, dtype=np.float32)
    y = np.linspace(0, 255, height, dtype=np.float32)[:, None]
    r = np.broadcast_to(x, (height, width))
    g = np.broadcast_to(y, (height, width))
    b = (r + g) / 2
    return Image.fromarray(np.stack([r, g, b], axis=2).astype(np.uint8))


def _exif_rotated_jpeg() -> bytes:
    img = _photo(96, 64)
    exif = Image.Exif()
    exif[0x0112] = 6  # orientation: rotate 90° CW to display
    return _encode(img, "JPEG", exif=exif.tobytes())


def _animated_gif() -> bytes:
    frames = [Image.new("RGB", (48, 48), c) for c in ("red", "green", "blue")]
    buf = io.BytesIO()
    frames[0].save(buf, "GIF", save_all=True, append_images=frames[1:], duration=100, loop=0)
    return buf.getvalue()


def image_files() -> dict[str, tuple[str, bytes]]:
    """name -> (file name to upload as, bytes). Names are what failure reports show."""
    small = _photo(64, 48)
    png = _encode(small, "PNG")
    jpg = _encode(small, "JPEG")
    sixteen = Image.fromarray(np.arange(64 * 64, dtype=np.uint16).reshape(64, 64) * 16)  # mode I;16
    return {
        "0-byte": ("empty.png", b""),
        "truncated PNG": ("truncated.png", png[: len(png) // 2]),
        "truncated JPEG": ("truncated.jpg", jpg[: len(jpg) // 2]),
        "random bytes": ("random.png", np.random.default_rng(0).bytes(4096)),
        "SVG as .png": ("svg.png", b'<svg xmlns="http://www.w3.org/2000/svg" width="9999999" height="9999999">'
                                   b'<rect width="100%" height="100%"/></svg>'),
        "text as .png": ("text.png", b"just some text, not an image\n" * 10),
        "1x1": ("one.png", _encode(Image.new("RGB", (1, 1), "white"), "PNG")),
        "PNG bomb 12000x12000": ("bomb.png", png_bomb(12000)),
        "JPEG declaring 12000x12000": ("bomb12k.jpg", jpeg_declaring(12000, 12000)),
        "JPEG declaring 65000x65000": ("bomb65k.jpg", jpeg_declaring(65000, 65000)),
        "GIF declaring 65535x65535": ("bomb.gif", gif_declaring(65535, 65535)),
        "BMP declaring 50000x50000": ("bomb.bmp", bmp_declaring(50000, 50000)),
        "TIFF declaring 100000x100000": ("bomb.tif", tiff_declaring(100000, 100000)),
        # Under PIL's bomb limit (2 x 89.5 MP), so only a warning: the reader allocates in full.
        "GIF declaring 12000x12000": ("bomb12k.gif", gif_declaring(12000, 12000)),
        "BMP declaring 12000x12000": ("bomb12k.bmp", bmp_declaring(12000, 12000)),
        "TIFF declaring 12000x12000": ("bomb12k.tif", tiff_declaring(12000, 12000)),
        "48 MP JPEG 8000x6000": ("big.jpg", _encode(_photo(8000, 6000), "JPEG", quality=70)),
        "RGBA PNG": ("rgba.png", _encode(small.convert("RGBA"), "PNG")),
        "16-bit grey PNG": ("grey16.png", _encode(sixteen, "PNG")),
        "CMYK JPEG": ("cmyk.jpg", _encode(small.convert("CMYK"), "JPEG")),
        "palette PNG": ("palette.png", _encode(small.convert("P"), "PNG")),
        "animated GIF": ("anim.gif", _animated_gif()),
        "EXIF-rotated JPEG": ("exif.jpg", _exif_rotated_jpeg()),
        "float32 TIFF": ("float.tif", _encode(Image.fromarray(np.random.default_rng(1).random((48, 64), np.float32)
                                                              * 1e6, mode="F"), "TIFF")),
    }


def write_images(folder: Path) -> dict[str, Path]:
    """Write every image case into `folder`: name -> path."""
    folder.mkdir(parents=True, exist_ok=True)
    out = {}
    for name, (fname, data) in image_files().items():
        path = folder / fname
        path.write_bytes(data)
        out[name] = path
    return out


def server_paths(app_root: Path) -> dict[str, str]:
    """Files on the server that a client never uploaded: FileData pointing at them must be refused
    (never read, never sent back)."""
    own_image = next(iter(sorted(app_root.glob("docs/img/*.png"))), app_root / "app.py")
    return {
        "server path /etc/passwd": "/etc/passwd",
        "server path ../../etc/passwd": "../../../../../../etc/passwd",
        "server path app.py": str(app_root / "app.py"),
        "server path own PNG": str(own_image),
    }


# ---- arguments of component server functions (gr.HTML server_functions) ---------------------------

def data_url(data: bytes, mime: str = "image/png") -> str:
    import base64

    return f"data:{mime};base64," + base64.b64encode(data).decode("ascii")


def server_function_values() -> list[Case]:
    """Values a page's JavaScript could pass to a server function, and many it never would: every
    image file above as a PNG data URL, wrong and lying MIME types, broken base64, strings of 3 and
    10 MB, and the scalars. test_hostile sends each bare, as an argument list and as the canvas's
    {"image": ..., "fit": true}."""
    photo = _encode(_photo(64, 48), "PNG")
    out = [Case(f"data URL of {name}", data_url(data)) for name, (_, data) in image_files().items()]
    out += [
        Case("JPEG data URL of a PNG", data_url(photo, "image/jpeg")),
        Case("SVG data URL", data_url(b'<svg xmlns="http://www.w3.org/2000/svg"/>', "image/svg+xml")),
        Case("HTML data URL", data_url(b"<script>alert(1)</script>", "text/html")),
        Case("GIF data URL", data_url(_encode(Image.new("P", (8, 8)), "GIF"), "image/gif")),
        Case("data URL, no base64 marker", "data:image/png," + "A" * 100),
        Case("bad base64", "data:image/png;base64,@@@@not-base64@@@@"),
        Case("bad padding", "data:image/png;base64,AAA"),
        Case("empty data URL", "data:image/png;base64,"),
        Case("3 MB data URL", "data:image/png;base64," + "A" * 3_000_000),
        Case("10 MB string", "x" * 10_000_000),
        Case("URL", "http://127.0.0.1/etc/passwd"),
        Case("path", "/etc/passwd"),
    ]
    scalars = {c.name: c for c in NUMBERS + STRINGS + BOOLEANS}  # one of each name
    return out + list(scalars.values())
