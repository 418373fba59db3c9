import base64
import logging
from urllib.parse import quote

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
