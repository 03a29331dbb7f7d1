"""One-time passwords for new and reset accounts.

Random (``secrets``), never derived from the unit code or name, easy to read off a printed distribution sheet:
no characters that look alike (0/O/o, 1/l/I/i), no character a spreadsheet could take for a formula at the start.
"""

from __future__ import annotations

import secrets

from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError

UPPER = "ABCDEFGHJKLMNPQRSTUVWXYZ"
LOWER = "abcdefghjkmnpqrstuvwxyz"
DIGITS = "23456789"
SYMBOLS = "#%&*?@$"
ALPHABET = UPPER + LOWER + DIGITS + SYMBOLS
LENGTH = 14


def generate_password(length: int = LENGTH) -> str:
    """A random password with at least two upper, two lower, two digits and one symbol; starts with a letter."""
    if length < 12:
        raise ValueError("one-time passwords have at least 12 characters")
    rng = secrets.SystemRandom()
    chars = [secrets.choice(UPPER), secrets.choice(UPPER), secrets.choice(LOWER), secrets.choice(LOWER),
             secrets.choice(DIGITS), secrets.choice(DIGITS), secrets.choice(SYMBOLS)]
    chars += [secrets.choice(ALPHABET) for _ in range(length - 1 - len(chars))]
    rng.shuffle(chars)
    return secrets.choice(UPPER + LOWER) + "".join(chars)


def generate_password_for(user: object) -> str:
    """A random password that also passes every configured validator for this user."""
    for _ in range(50):
        password = generate_password()
        try:
            validate_password(password, user)
        except ValidationError:
            continue
        return password
    raise RuntimeError("could not generate a password that passes the configured validators")
