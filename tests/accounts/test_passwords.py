from __future__ import annotations

import pytest
from django.contrib.auth.password_validation import get_password_validators, validate_password
from django.core.exceptions import ValidationError

from accounts import actions
from accounts.models import Role, User
from accounts.passwords import DIGITS, LOWER, SYMBOLS, UPPER, generate_password, generate_password_for

DJANGO_DEFAULTS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 10}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]


def refused(password: str, user: User | None = None) -> bool:
    try:
        validate_password(password, user)
    except ValidationError:
        return True
    return False


def test_it_configures_argon2_as_the_first_hasher():
    import config.settings as production

    assert production.PASSWORD_HASHERS[0] == "django.contrib.auth.hashers.Argon2PasswordHasher"


def test_it_stores_new_passwords_as_argon2_with_the_production_hashers(db, settings):
    settings.PASSWORD_HASHERS = [h for h in settings.PASSWORD_HASHERS if "MD5" not in h]
    user = actions.user_create(acting_user=None, username="370100", unit=None, role=Role.FILLER,
                               password="Tq#8wnVb-x4Rm")
    user.refresh_from_db()
    assert user.password.startswith("argon2")
    assert user.check_password("Tq#8wnVb-x4Rm")


def test_it_refuses_the_old_platforms_pattern_that_djangos_defaults_accept(tree):
    jinan = tree.user("370100")
    # Django's own validators let the old Fjzl@<code> passwords through …
    validate_password("Fjzl@350100abc", jinan, password_validators=get_password_validators(DJANGO_DEFAULTS))
    # … the platform does not, for any user and for no user at all.
    assert refused("Fjzl@350100abc")
    assert refused("Fjzl@350100abc", jinan)
    assert refused("fjzl#Kq83xzPw")
    assert refused("Kq#83xz350100")  # a division code alone, without the abbreviation


def test_it_refuses_a_password_containing_the_unit_code(tree):
    assert refused("Kq#3701001xzPw", tree.user("3701001"))
    assert refused("Kq#370100xzPwv", tree.user("370100-sh"))


def test_it_refuses_a_password_containing_the_username(tree, db):
    user = actions.user_create(acting_user=None, username="wangfang", unit=tree.jinan, role=Role.REVIEWER,
                               password="Tq#8wnVb-x4Rm")
    assert refused("Kq#wangfang83x", user)
    assert refused("Kq#WANGFANG83x", user)


def test_it_refuses_a_password_containing_the_unit_name(tree):
    assert refused("济南市Kq#83xzPw", tree.user("370100"))
    assert refused("济南Kq#83xzPwv", tree.user("370100"))
    assert refused("平阴县Kq#83xzPw", tree.user("3701002"))


def test_it_accepts_a_random_one_time_password(tree):
    for username in ("370100", "3701001", "100000-sh", "admin"):
        user = tree.user(username)
        password = generate_password_for(user)
        validate_password(password, user)
        validate_password(password)


def test_it_generates_long_mixed_unambiguous_unpredictable_passwords():
    passwords = [generate_password() for _ in range(300)]
    assert len(set(passwords)) == len(passwords)
    for pw in passwords:
        assert len(pw) >= 12
        assert any(c in UPPER for c in pw) and any(c in LOWER for c in pw)
        assert any(c in DIGITS for c in pw) and any(c in SYMBOLS for c in pw)
        assert not set(pw) & set("0O1lIio")
        assert pw[0].isalpha()  # never read as a formula by a spreadsheet


def test_it_refuses_to_generate_short_passwords():
    with pytest.raises(ValueError):
        generate_password(8)


def test_it_shows_the_rule_in_chinese_when_a_password_is_refused(tree):
    with pytest.raises(ValidationError) as e:
        validate_password("Fjzl@370100abc", tree.user("370100"))
    assert any("单位编码" in m for m in e.value.messages)
