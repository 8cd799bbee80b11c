"""One secret key gives every pseudonym mrishare makes.

A *key file* holds 32 random bytes as hex. From it, with HMAC-SHA256, mrishare derives:

* participant labels (``key.label("NL-UMC-0047131")`` gives the same 8 letters and digits
  every time, in DICOM, in BIDS file names and in ``participants.tsv``),
* DICOM UIDs (``key.uid(original)``: a valid ``2.25.`` UID, the same wherever the original
  appears, so references between files stay intact),
* one date shift per participant (``key.date_shift(participant)``: whole days back to 1925 or
  earlier, as BIDS recommends, the same for every session so intervals survive).

Another key gives other pseudonyms; without a key file a random key is used and the
pseudonyms cannot be made again. Keep the key file secret and never share it: with it and
the original identifiers, anyone can redo the mapping.

Examples
--------
>>> key = Key(bytes(32))
>>> key.label("participant-one")
'gfpkkb9j'
>>> key.uid("1.2.3.4").startswith("2.25.")
True
>>> key.date_shift("participant-one") < -36500
True
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import secrets
from dataclasses import dataclass, field
from pathlib import Path

from mrishare.errors import KeyFileError

__all__ = ["Key", "KeyFileError", "load_or_random_key"]

# Letters and digits that are hard to confuse when read aloud or written down.
_ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"
# Shift dates back at least 101 years: a 2026 date lands in 1925 or before.
_MIN_SHIFT_DAYS = 36_890
_SHIFT_SPREAD_DAYS = 3_653  # plus up to ten more years, per participant


@dataclass(frozen=True)
class Key:
    """A secret key and the pseudonyms it derives.

    Parameters
    ----------
    secret : bytes
        At least 16 bytes; :meth:`generate` makes 32 random ones.
    reproducible : bool, default True
        False for a random key that was not saved: outputs then say so.
    """

    secret: bytes = field(repr=False)
    reproducible: bool = True

    def __post_init__(self) -> None:
        """Refuse a secret shorter than 16 bytes."""
        if len(self.secret) < 16:
            raise KeyFileError("A key needs at least 16 bytes (32 hexadecimal characters).")

    @classmethod
    def generate(cls) -> Key:
        """Make a new random key (save it with :meth:`save` to reuse it).

        Examples
        --------
        >>> Key.generate() != Key.generate()
        True
        """
        return cls(secrets.token_bytes(32))

    @classmethod
    def from_file(cls, path: str | Path) -> Key:
        """Read a key file written by :meth:`save`.

        Raises
        ------
        KeyFileError
            When the file is missing or does not hold hexadecimal characters.
        """
        path = Path(path)
        try:
            text = path.read_text(encoding="ascii").strip()
            return cls(bytes.fromhex(text))
        except FileNotFoundError:
            raise KeyFileError(
                f"Key file {path} does not exist. Make one with 'mrishare make-key {path}'."
            ) from None
        except (UnicodeDecodeError, ValueError):
            raise KeyFileError(
                f"Key file {path} should hold 64 hexadecimal characters and nothing else."
            ) from None

    def save(self, path: str | Path) -> Path:
        """Write the key as hex to a new file readable only by its owner.

        Refuses to overwrite an existing file: losing a key loses the mapping.
        """
        path = Path(path)
        with path.open("x", encoding="ascii") as f:
            f.write(self.secret.hex() + "\n")
        path.chmod(0o600)
        return path

    def _digest(self, purpose: str, value: str) -> bytes:
        message = f"{purpose}\x00{value}".encode()
        return hmac.new(self.secret, message, hashlib.sha256).digest()

    def label(self, original: str, length: int = 8) -> str:
        """Return a participant label: lower-case letters and digits, valid in BIDS.

        Parameters
        ----------
        original : str
            The original identifier (a patient ID, say). It does not appear in the result.
        length : int, default 8
            Number of characters (31 possible each).
        """
        number = int.from_bytes(self._digest("label", original), "big")
        chars = []
        for _ in range(length):
            number, index = divmod(number, len(_ALPHABET))
            chars.append(_ALPHABET[index])
        return "".join(chars)

    def uid(self, original: str) -> str:
        """Return a DICOM UID under ``2.25`` (a 128-bit number), derived from ``original``.

        Examples
        --------
        >>> len(Key(bytes(32)).uid("1.2.840.1")) <= 64
        True
        """
        number = int.from_bytes(self._digest("uid", original.strip())[:16], "big")
        return f"2.25.{number}"

    def date_shift(self, participant: str) -> int:
        """Return the participant's date shift in days (negative: back in time)."""
        number = int.from_bytes(self._digest("date", participant)[:8], "big")
        return -(_MIN_SHIFT_DAYS + number % _SHIFT_SPREAD_DAYS)

    def shift_date(self, date: dt.date, participant: str) -> dt.date:
        """Shift a date by the participant's shift.

        Examples
        --------
        >>> key = Key(bytes(32))
        >>> a = key.shift_date(dt.date(2024, 3, 11), "p")
        >>> b = key.shift_date(dt.date(2024, 4, 22), "p")
        >>> (b - a).days
        42
        """
        return date + dt.timedelta(days=self.date_shift(participant))


def load_or_random_key(path: str | Path | None) -> Key:
    """Read ``path`` when given, else return a random key marked not reproducible.

    Examples
    --------
    >>> load_or_random_key(None).reproducible
    False
    """
    if path is None:
        return Key(secrets.token_bytes(32), reproducible=False)
    return Key.from_file(path)
