import base64
import io
import json
import logging
from urllib.parse import quote, quote_plus

from secretsync.models import Secret
from secretsync.redact import RedactingFilter, Redactor


def test_masks_every_spelling_of_a_value():
    value = "line one: p@ss/w0rd\nline two-secret"
    r = Redactor()
    r.add([Secret(value.encode())])
    for spelling in (
        value,
        base64.b64encode(value.encode()).decode(),
        quote(value, safe=""),
        "line two-secret",
        repr(value)[1:-1],
    ):
        assert r(f"before {spelling} after") == "before *** after"


def test_short_values_are_not_masked():
    r = Redactor()
    r.add([Secret(b"on")])
    assert r("one or two") == "one or two"


def test_logging_filter_masks_formatted_messages():
    r = Redactor()
    r.add([Secret(b"tok-123456")])
    record = logging.LogRecord("x", logging.INFO, __file__, 1, "token %s", ("tok-123456",), None)
    RedactingFilter(r).filter(record)
    assert record.getMessage() == "token ***"


def test_secret_repr_str_format_are_redacted():
    s = Secret(b"hunter22")
    assert repr(s) == str(s) == f"{s}" == f"{s!r:>10}" == "Secret(***)"
    assert s == Secret(b"hunter22") and s != Secret(b"other")


# ----------------------------------------------------- mutation survivors (scripts/mutation.py)


def _masked(value: bytes, spelling: str) -> str:
    r = Redactor()
    r.add([Secret(value)])
    return r(f"<{spelling}>")


def test_masking_starts_at_four_characters():
    assert _masked(b"abcd", "abcd") == "<***>"
    assert _masked(b"abc", "abc") == "<abc>"


def test_every_base64_spelling_is_masked_whole():
    value = b"\xfb\xef\xbe-secret!"  # standard and URL-safe alphabets differ; padded
    standard = base64.b64encode(value).decode()
    urlsafe = base64.urlsafe_b64encode(value).decode()
    assert standard != urlsafe and standard.endswith("=")
    for spelling in (standard, urlsafe, standard.rstrip("=")):
        assert _masked(value, spelling) == "<***>", spelling


def test_json_repr_and_form_spellings_are_masked_whole():
    value = 'pa"ss\\word with space\ttab'
    for spelling in (
        json.dumps(value)[1:-1],
        repr(value)[1:-1],
        quote(value, safe=""),
        quote_plus(value),
    ):
        assert _masked(value.encode(), spelling) == "<***>", spelling


def test_longer_values_are_masked_before_their_prefixes():
    r = Redactor()
    r.add([Secret(b"abcdef"), Secret(b"abcdefgh")])
    assert r("x abcdefgh y abcdef z") == "x *** y *** z"


def test_values_added_later_are_masked_too():
    r = Redactor()
    r.add([Secret(b"first-value")])
    assert r("first-value") == "***"
    r.add([Secret(b"second-value")])
    assert r("first-value second-value") == "*** ***"


def test_logging_filter_keeps_records_and_masks_them():
    r = Redactor()
    r.add([Secret(b"tok-123456")])
    record = logging.LogRecord("x", logging.INFO, __file__, 1, "token %s", ("tok-123456",), None)
    assert RedactingFilter(r).filter(record) is True  # never drops a diagnostic
    assert record.args is None and record.msg == "token ***"

    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.addFilter(RedactingFilter(r))
    logger = logging.getLogger("secretsync.test_redact")
    logger.addHandler(handler)
    try:
        logger.warning("sent %s to %s", "tok-123456", "the server")
    finally:
        logger.removeHandler(handler)
    assert stream.getvalue() == "sent *** to the server\n"
