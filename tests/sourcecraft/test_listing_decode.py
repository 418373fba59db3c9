"""A listing's values decode exactly as base64.b64decode(value, validate=True) would: the
same bytes for every value it accepts, MalformedResponse for every value it refuses."""

import base64
import binascii

import httpx
import pytest

from secretsync.errors import ApiError
from secretsync.models import Secret
from secretsync.sourcecraft.answers import listing

VALUES = [
    "",
    "QQ==",
    "QUI=",
    "QUJD",
    base64.b64encode(bytes(range(256))).decode(),
    base64.b64encode("пароль-ü".encode()).decode(),
    "QQ",  # padding missing
    "QQ=",
    "QQ===",
    "Q===",
    "QUJD=",
    "QU=JD",  # padding inside
    "=QUJD",
    "QUJD\n",
    " QUJD",
    "QU JD",
    "QUJD\r\n",
    "-_8=",  # the URL-safe alphabet
    "+/8=",
    "QUJ*",
    "QUJDé",  # not ASCII
    "ＱＵＪＤ",  # full-width letters: not ASCII either
    "QUJD\x00",
    "A",
    "AB==CD==",
    "QQ==QQ==",
]


def reference(value):
    try:
        return base64.b64decode(value, validate=True)
    except (ValueError, binascii.Error):
        return None


def decode(value):
    body = {"secrets": [{"key": "K", "value": value}]}
    try:
        got = listing(httpx.Response(200, json=body), "GET", "/repos/id:r/secrets")
    except ApiError as exc:
        assert exc.error_code == "MalformedResponse"
        assert "the value of 'K' is not base64" in str(exc)
        return None
    secret = got["K"]
    assert isinstance(secret, Secret)
    return secret.reveal()


@pytest.mark.parametrize("value", VALUES)
def test_a_value_decodes_as_b64decode_with_validate(value):
    assert decode(value) == reference(value)


def test_every_short_string_of_the_alphabet_decodes_as_b64decode():
    alphabet = "QA+/=-_ \n"
    samples = [a + b + c + d for a in alphabet for b in alphabet for c in alphabet for d in "Q="]
    for value in samples:
        assert decode(value) == reference(value), repr(value)


@pytest.mark.parametrize("value", [1, 1.5, True, ["QQ=="], {"v": "QQ=="}])
def test_a_value_that_is_not_a_string_is_malformed(value):
    assert decode(value) is None


def test_entries_keep_their_rules():
    body = {
        "secrets": [
            {"key": "A", "value": "QQ=="},
            {"key": "B"},
            {"key": "C", "value": None},
        ]
    }
    got = listing(httpx.Response(200, json=body), "GET", "/p")
    assert {k: (v.reveal() if v else v) for k, v in got.items()} == {
        "A": b"A",
        "B": None,
        "C": None,
    }
    for bad, what in [
        ({"secrets": ["A"]}, "a `secrets` entry has no string `key`"),
        ({"secrets": [{"key": 1}]}, "a `secrets` entry has no string `key`"),
        ({"secrets": [{"value": "QQ=="}]}, "a `secrets` entry has no string `key`"),
        ({"secrets": [{"key": "A"}, {"key": "A"}]}, "secret 'A' is listed twice"),
    ]:
        with pytest.raises(ApiError) as info:
            listing(httpx.Response(200, json=bad), "GET", "/p")
        assert what in str(info.value)
