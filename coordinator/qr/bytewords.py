"""Bytewords (BCR-2020-012): bytes as four-letter English words.

The encoded form carries a CRC-32 of the data (big-endian, appended before
encoding), so a mis-scanned frame is caught here. Three styles: standard
(words and spaces), URI (words and hyphens) and minimal (first and last letter
of each word, which is what UR uses inside QR codes).
"""

from __future__ import annotations

import zlib

from .errors import BadPart

_WORDS = (
    "able acid also apex aqua arch atom aunt away axis back bald barn belt "
    "beta bias blue body brag brew bulb buzz calm cash cats chef city claw "
    "code cola cook cost crux curl cusp cyan dark data days deli dice diet "
    "door down draw drop drum dull duty each easy echo edge epic even exam "
    "exit eyes fact fair fern figs film fish fizz flap flew flux foxy free "
    "frog fuel fund gala game gear gems gift girl glow good gray grim guru "
    "gush gyro half hang hard hawk heat help high hill holy hope horn huts "
    "iced idea idle inch inky into iris iron item jade jazz join jolt jowl "
    "judo jugs jump junk jury keep keno kept keys kick kiln king kite kiwi "
    "knob lamb lava lazy leaf legs liar limp lion list logo loud love luau "
    "luck lung main many math maze memo menu meow mild mint miss monk nail "
    "navy need news next noon note numb obey oboe omit onyx open oval owls "
    "paid part peck play plus poem pool pose puff puma purr quad quiz race "
    "ramp real redo rich road rock roof ruby ruin runs rust safe saga scar "
    "sets silk skew slot soap solo song stub surf swan taco task taxi tent "
    "tied time tiny toil tomb toys trip tuna twin ugly undo unit urge user "
    "vast very veto vial vibe view visa void vows wall wand warm wasp wave "
    "waxy webs what when whiz wolf work yank yawn yell yoga yurt zaps zero "
    "zest zinc zone zoom "
).split()

STYLES = ("standard", "uri", "minimal")
_SEPARATORS = {"standard": " ", "uri": "-"}
_BY_WORD = {word: i for i, word in enumerate(_WORDS)}
# BCR-2020-012: the first and last letters of the 256 words are unique.
_MINIMAL = tuple(word[0] + word[-1] for word in _WORDS)
_BY_MINIMAL = {pair: i for i, pair in enumerate(_MINIMAL)}


def encode(data: bytes, style: str = "minimal") -> str:
    """Bytewords for data followed by its CRC-32."""
    body = data + zlib.crc32(data).to_bytes(4, "big")
    if style == "minimal":
        return "".join(_MINIMAL[b] for b in body)
    return _separator(style).join(_WORDS[b] for b in body)


def decode(text: str, style: str = "minimal") -> bytes:
    """The data carried by Bytewords text, after checking its CRC-32."""
    table = _BY_MINIMAL if style == "minimal" else _BY_WORD
    tokens = _tokens(text.lower(), style)
    # map() in C: frames arrive at camera speed from anyone (issue 8).
    values = list(map(table.get, tokens))
    if None in values:
        raise BadPart("qr_malformed_part",
                      f"not a Bytewords word: {tokens[values.index(None)][:8]!r}")
    body = bytes(values)
    if len(body) < 4:
        raise BadPart("qr_malformed_part", "Bytewords text too short to hold a checksum")
    data, crc = body[:-4], body[-4:]
    if zlib.crc32(data).to_bytes(4, "big") != crc:
        raise BadPart("qr_bad_checksum", "Bytewords checksum mismatch: the frame is corrupted")
    return data


def _tokens(text: str, style: str) -> list[str]:
    if style == "minimal":
        if len(text) % 2:
            raise BadPart("qr_malformed_part", "minimal Bytewords must have an even length")
        return [text[i:i + 2] for i in range(0, len(text), 2)]
    return text.split(_separator(style)) if text else []


def _separator(style: str) -> str:
    if style not in _SEPARATORS:
        raise ValueError(f"unknown Bytewords style {style!r}")
    return _SEPARATORS[style]
