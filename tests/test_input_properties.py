"""Generated hostile input: the loader and the resolver end in a result or in ManifestError /
SourceError, never in any other exception (which the CLI would show as a traceback)."""

from __future__ import annotations

import json
import tempfile
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from secretsync.errors import ManifestError, SourceError
from secretsync.manifest.loader import load_manifest
from secretsync.models import Manifest
from secretsync.names import KEY_RE
from secretsync.sources.resolve import check_sources, resolve_sources

# Cheap and in-process: four properties stay well under the ~15 s budget together.
FAST = settings(
    max_examples=200,
    deadline=None,
    database=None,  # keep the working tree clean; a failure prints its reproduction
    suppress_health_check=[HealthCheck.too_slow],
)

YAML_BITS = [
    "version: 1\n",
    "repos:\n",
    "  - repo: acme/app\n",
    "    groups:\n",
    "      default:\n",
    "        secrets:\n",
    "          A: {env: A}\n",
    "          B: {file: b.bin}\n",
    "        dotenv: a.env\n",
    "        use: [s]\n",
    "sets: {s: {dotenv: a.env}}\n",
    "file_roots: [..]\n",
    "api: {url: x, token_env: T}\n",
    "&a ",
    "*a",
    "!!binary ",
    "<<: ",
    "---\n",
    "%YAML 1.1\n",
    "? ",
    ": ",
    "- ",
    "[",
    "]",
    "{",
    "}",
    ",",
    "'",
    '"',
    "#",
    "|\n",
    ">\n",
    "\t",
    " ",
    "\n",
    "\x00",
    "\x85",
    "\ufeff",
    "\\",
    "2001-02-30",
    "9" * 5000,
    "1e999",
    "0x",
    "~",
    "null",
    "true",
    "é",
    "🙂",
    "\r\n",
    "\udcff",
]

FIELDS = [
    "version",
    "repos",
    "repo",
    "repo_id",
    "org",
    "match",
    "exclude",
    "prune",
    "groups",
    "default",
    "secrets",
    "dotenv",
    "use",
    "sets",
    "api",
    "url",
    "token_env",
    "file_roots",
    "env",
    "file",
    "key",
    "allow_empty",
    "A",
    "B",
    "a.env",
    "",
    "<<",
    "9x",
]

scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.floats(allow_nan=True),
    st.sampled_from([*FIELDS, "acme/app", "a.env", "b.bin", "../x", "/etc/passwd", "s"]),
    st.text(max_size=20),
)
json_values = st.recursive(
    scalars,
    lambda inner: st.one_of(
        st.lists(inner, max_size=4),
        st.dictionaries(st.one_of(st.sampled_from(FIELDS), st.text(max_size=8)), inner, max_size=5),
    ),
    max_leaves=30,
)

ENV_BITS = [
    "A=1\n",
    "B=\n",
    "C\n",
    "export D=4\n",
    "E='x\n",
    'F="y\\n"\n',
    "bad-key=1\n",
    "# c\n",
    "G=${HOME}\n",
    "=v\n",
    "  H = 1 # c\n",
    "'I'=1\n",
    "\n",
    "\r",
    "\\",
    "\x00",
    "'",
    '"',
]
env_texts = st.one_of(
    st.binary(max_size=200),
    st.lists(st.sampled_from(ENV_BITS), max_size=12)
    .map("".join)
    .map(lambda s: s.encode("utf-8", "surrogatepass")),
    st.text(max_size=100).map(lambda s: s.encode("utf-8", "surrogatepass")),
)

# A manifest that names every kind of source, so generated .env files and environments reach
# every branch of the resolver.
RESOLVABLE = """\
version: 1
sets: {s: {dotenv: b.env, allow_empty: true, secrets: {S: {dotenv: a.env, key: A}}}}
repos:
  - repo: acme/app
    groups:
      default:
        dotenv: [a.env, b.env]
        use: s
        secrets:
          E: {env: E}
          F: {file: f.bin}
          K: {dotenv: a.env, key: K, allow_empty: true}
      other: {dotenv: a.env}
"""


def _load_text(data: bytes) -> Manifest | None:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "secretsync.yaml"
        path.write_bytes(data)
        try:
            return load_manifest(path)
        except ManifestError as err:
            assert err.problems
            for problem in err.problems:
                assert "\n" not in str(problem)
            return None


@FAST
@given(st.lists(st.sampled_from(YAML_BITS), max_size=40))
def test_yaml_fragments_never_crash_the_loader(bits):
    _load_text("".join(bits).encode("utf-8", "surrogatepass"))


@FAST
@given(st.binary(max_size=300))
def test_arbitrary_bytes_never_crash_the_loader(data):
    _load_text(data)


@FAST
@given(json_values, st.dictionaries(st.sampled_from(["E", "A", "T"]), st.text(max_size=5)))
def test_generated_structures_never_crash_loader_or_resolver(data, environ):
    # JSON is YAML; the loader must survive every shape, the resolver every manifest it accepts.
    manifest = _load_text(json.dumps(data).encode())
    if manifest is not None:
        try:
            resolve_sources(manifest, environ)
        except SourceError as err:
            assert err.problems


@FAST
@given(
    a_env=env_texts,
    b_env=env_texts,
    f_bin=st.binary(max_size=50),
    environ=st.dictionaries(st.sampled_from(["E", "K"]), st.text(max_size=5)),
)
def test_generated_env_files_never_crash_the_resolver(a_env, b_env, f_bin, environ):
    with tempfile.TemporaryDirectory() as folder:
        root = Path(folder)
        (root / "secretsync.yaml").write_text(RESOLVABLE)
        (root / "a.env").write_bytes(a_env)
        (root / "b.env").write_bytes(b_env)
        (root / "f.bin").write_bytes(f_bin)
        manifest = load_manifest(root / "secretsync.yaml")
        try:
            repos = resolve_sources(manifest, environ)
        except SourceError as err:
            assert err.problems
            for problem in err.problems:
                assert "\n" not in str(problem)
            try:
                check_sources(manifest, None)
            except SourceError as err_no_env:
                assert err_no_env.problems
            return
        check_sources(manifest, None)  # what resolves also validates
        for group in repos[0].groups:
            keys = [s.key for s in group.secrets]
            assert keys == sorted(keys)
            assert all(KEY_RE.fullmatch(k) for k in keys)
