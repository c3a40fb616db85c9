"""tether's own layer, for what a rule set keyed on providers' formats cannot see: a value
under a secret-looking key (env, YAML, JSON, TOML, CLI flags, HTTP headers, .netrc,
`mysql -pPASS`), Basic and Bearer credentials, and high-entropy tokens.

Rules of thumb that keep code and prose from being redacted: a key is secret-looking by its
words (`DB_PASSWORD`, `clientSecret`, `x-api-key`), not by a substring (`tokenizer`, `max_tokens`
are not); a value that names another thing (`$VAR`, `${VAR}`, `<placeholder>`, a function
call, a variable) is not a secret; an entropy hit needs letters and digits mixed as random
strings mix them. bench/secrets.py counts what this still flags in the bench corpus.
"""

from __future__ import annotations

import base64
import binascii
import functools
import math
import re
from collections import Counter
from collections.abc import Iterator

from tether.redact.rules import Span

KEYED = "keyed-secret"
ENTROPY = "high-entropy"

_SECRET_WORDS = frozenset(
    {
        "password", "passwd", "pwd", "pass", "passphrase", "secret", "secrets", "token",
        "apikey", "credential", "credentials", "privatekey", "accesskey", "secretkey",
        "authtoken", "accesstoken", "refreshtoken", "sessiontoken", "clientsecret",
        "authorization", "cookie", "sessionid",
    }
)  # fmt: skip
_SECRET_PAIRS = frozenset(
    {
        ("api", "key"), ("access", "key"), ("private", "key"), ("secret", "key"),
        ("account", "key"), ("signing", "key"), ("encryption", "key"), ("master", "key"),
        ("auth", "key"), ("license", "key"), ("webhook", "url"), ("connection", "string"),
    }
)  # fmt: skip
_NOT_SECRET_LAST = frozenset(
    {
        "id", "ids", "type", "types", "name", "names", "path", "file", "dir", "url", "uri",
        "count", "length", "len", "limit", "max", "min", "expires", "expiry", "expiration",
        "ttl", "env", "var", "field", "prompt", "hint", "policy", "format", "required",
        "enabled", "mode", "endpoint", "location", "provider", "source", "header", "label",
        "size", "version", "command", "cmd", "flag", "option", "timeout", "help",
    }
)  # fmt: skip
_NEUTRAL_LAST = frozenset({"value", "val", "str", "string", "b64", "base64", "hex", "raw", "plain"})
"""Suffixes that say how a secret is spelled (`tokenValue`, `secret_b64`), not what it is."""
_WORDS = re.compile(r"[A-Z]+(?![a-z])|[A-Z]?[a-z]+|\d+")
_STOP_VALUES = frozenset(
    {
        "none", "null", "nil", "true", "false", "undefined", "string", "str", "optional",
        "required", "boolean", "bool", "number", "int", "bytes", "secretstr", "password",
        "secret", "token", "redacted", "changeit", "xxxxxx", "your_password", "yourpassword",
    }
)  # fmt: skip


@functools.lru_cache(maxsize=4096)
def secret_key(name: str) -> bool:
    """Whether a key (of a JSON object, an env variable, a flag) names a secret."""
    words = [w.lower() for w in _WORDS.findall(name)]
    while len(words) > 1 and words[-1] in _NEUTRAL_LAST:
        words.pop()
    if not words or words[-1] in _NOT_SECRET_LAST:
        return False
    if words == ["pass"]:
        return False  # `PASS: TestName` in test output; `DB_PASS=` still counts
    if "".join(words) in _SECRET_WORDS or words[-1] in _SECRET_WORDS:
        return True
    return tuple(words[-2:]) in _SECRET_PAIRS


_PLACEHOLDER = re.compile(r"\$|<[^>]*>$|\{|\[|\(|%[({]|%[sd]$|\*{3}")
"""`$VAR`, `${VAR}`, `<your key>`, `{{ secret }}`, `%(password)s`, `***`: names, not values."""


def secret_value(value: str) -> bool:
    """Whether a value under a secret-looking key is itself a secret (not a reference to
    one, a placeholder, a type name or an empty field)."""
    value = value.strip()
    if len(value) < 6 or value.lower() in _STOP_VALUES:
        return False
    if _PLACEHOLDER.match(value) or value.startswith(("[REDACTED", "os.environ", "process.env")):
        return False
    if set(value) <= set("*xX.•-_#?"):
        return False  # masked already
    return not ("(" in value and value.endswith(")"))


# ---------------------------------------------------------------------------------------
# Keyed secrets in text

_KEY_WORDS = ("pass", "pwd", "secret", "token", "key", "credential", "auth", "cookie", "session")
"""Where a secret-looking key may be: assignments and flags are tried only around these."""
_KEY_WORD = re.compile("(?i)" + "|".join(_KEY_WORDS))
_OPERATOR_AFTER = re.compile(r"""[\w.\-]*(?:\\?["'])?[ \t]*(?::=|=>|=(?!=)|:(?!:))""")
_FLAG_AFTER = re.compile(r"[\w-]*(?:=|[ \t]+)[^\s-]")
_KEY_HEAD = re.compile(r"[\w.\-]*\Z")
# Quotes may come escaped, as in JSON written into a string: \\"password\\": \\"…\\"
_ASSIGNMENT = re.compile(
    r"""(?P<key>[A-Za-z_][\w.\-]{0,80})(?:\\?["'])?[ \t]*(?P<op>:=|=>|=(?!=)|:(?!:))[ \t]*"""
    r"""(?:(?P<q>\\?["'`])(?P<quoted>[^"'`\n\\]*)(?P=q)|(?P<bare>[^\s"'`,;)}\]\\]+))"""
)
_FLAG = re.compile(
    r"""--(?P<key>[A-Za-z][\w-]{1,60})(?P<sep>=|[ \t]+)"""
    r"""(?:(?P<q>["'])(?P<quoted>[^"'\n]*)(?P=q)|(?P<bare>[^\s"']+))"""
)
_HEADER = re.compile(
    r"(?i)\b(?:proxy-)?authorization\s*[:=]\s*[\"']?"
    r"(?:(?:bearer|token|basic|digest|apikey|key|sso-key|negotiate)\s+)?(?P<bare>[^\s\"',;]{6,})"
)
_BEARER = re.compile(r"(?i)\bbearer\s+(?P<bare>[A-Za-z0-9\-._~+/]{12,}=*)")
_BASIC = re.compile(r"\bBasic\s+(?P<bare>[A-Za-z0-9+/]{8,}={0,2})(?![A-Za-z0-9+/=])")
_MYSQL = re.compile(
    r"\b(?:mysql|mysqldump|mysqladmin|mariadb|mariadb-dump|mysqlsh)\b[^\n|;&]*?"
    r"\s-p(?P<bare>[^\s\"'-][^\s\"']*)"
)
_NETRC = re.compile(r"\bmachine\s+\S+(?:\s+login\s+\S+)?\s+password\s+(?P<bare>\S+)")
_ANCHORED = (
    ("authorization", _HEADER, KEYED),
    ("bearer", _BEARER, "bearer-token"),
    ("mysql", _MYSQL, "mysql-password"),
    ("mariadb", _MYSQL, "mysql-password"),
    ("machine", _NETRC, "netrc-password"),
)
"""Rules tried only when their word is in the text (a substring test costs next to nothing)."""


def keyed_spans(text: str) -> list[Span]:
    out = _assignments(text) if ("=" in text or ":" in text or "--" in text) else []
    lower = text.lower()
    for word, pattern, rule in _ANCHORED:
        if word in lower:
            out += [Span(m.start("bare"), m.end("bare"), rule) for m in pattern.finditer(text)]
    if "Basic" in text:
        out += [
            Span(m.start("bare"), m.end("bare"), "basic-auth")
            for m in _BASIC.finditer(text)
            if _is_user_colon_password(m["bare"])
        ]
    return out


def _assignments(text: str) -> list[Span]:
    """`KEY=value`, `key: value`, `"key": "value"`, `--key value`, where the key looks secret."""
    out: list[Span] = []
    tried: set[int] = set()
    flags = "--" in text
    for hit_start, hit_end in _key_words(text):
        if _OPERATOR_AFTER.match(text, hit_end):
            pattern = _ASSIGNMENT
        elif flags and _FLAG_AFTER.match(text, hit_end):
            pattern = _FLAG
        else:
            continue  # a word in prose: no operator follows the key it may be part of
        start = _key_start(text, hit_start)
        if text.startswith("--", start):
            pattern = _FLAG
        elif pattern is _FLAG:
            start = text.find("--", start, hit_start)
            if start < 0:
                continue
        if start in tried:
            continue
        tried.add(start)
        match = pattern.match(text, start)
        if match is None:
            continue
        key = match["key"]
        if not secret_key(key) or key.lower().endswith("authorization"):
            continue  # an Authorization header: _HEADER takes its credential whole
        group = "quoted" if match["quoted"] is not None else "bare"
        value = match[group]
        if pattern is _FLAG and match["sep"] != "=" and value.startswith("-"):
            continue  # `--token --yes`: the next flag, not a value
        if _assignment_in_code(match, value) or not secret_value(value):
            continue
        out.append(Span(match.start(group), match.end(group), KEYED))
    return out


def _key_words(text: str) -> list[tuple[int, int]]:
    """Where the key words are, in order. str.find on the lower-cased text is an order of
    magnitude faster than a case-insensitive regex; a text whose length changes when
    lower-cased (a few Unicode letters) takes the regex."""
    lower = text.lower()
    if len(lower) != len(text):
        return [(m.start(), m.end()) for m in _KEY_WORD.finditer(text)]
    hits = []
    for word in _KEY_WORDS:
        at = lower.find(word)
        while at >= 0:
            hits.append((at, at + len(word)))
            at = lower.find(word, at + 1)
    return sorted(hits)


def _key_start(text: str, at: int) -> int:
    head = max(0, at - 80)
    found = _KEY_HEAD.search(text, head, at)
    return head + (found.start() - head if found else at - head)


_IDENTIFIER = r"(?:[a-z_$][a-z_$]*(?:[A-Z][a-z_]+)*|[A-Z][A-Z_]*|(?:[A-Z][a-z]+)+)"
_DOTTED = re.compile(rf"{_IDENTIFIER}(?:\.{_IDENTIFIER})+")
"""`config.api_key`, `process.env.API_TOKEN`: words as code spells them, not random text."""


def _assignment_in_code(match: re.Match[str], value: str) -> bool:
    """Code, not configuration: `token = self.token` or `password = get_password()` (the
    value names a variable or calls something), `(token: Token)` (a parameter's type).
    An env file's `DB_PASSWORD=hunter2` has an upper-case key: kept."""
    if match["quoted"] is not None:
        return False
    if "(" in value:
        return True
    text, op = match.string, match.groupdict().get("op")
    if op is None or (op == "=" and match["key"].isupper()):
        return False  # a flag's value, an env file's `DB_PASSWORD=hunter2`
    if _DOTTED.fullmatch(value):
        return True  # `apiKey: config.api_key`: a reference
    if op == ":":
        before = text[: match.start()].rstrip(" \t")[-1:]
        return before in ("(", ",") or text[match.end() : match.end() + 1] in (")", ",", "]", "=")
    return bool(re.fullmatch(r"[a-z_][\w.\[\]]*", value)) and not any(c.isdigit() for c in value)


def _is_user_colon_password(candidate: str) -> bool:
    try:
        decoded = base64.b64decode(candidate + "=" * (-len(candidate) % 4), validate=True)
        text = decoded.decode()
    except (binascii.Error, UnicodeDecodeError, ValueError):
        return False
    return ":" in text and text.isprintable()


# ---------------------------------------------------------------------------------------
# Credentials known by their prefix alone

PREFIXED = "credential-prefix"
_PREFIXES = (
    *("sk-ant-", "sk-proj-", "sk-svcacct-", "sk-admin-", "sk_live_", "sk_test_", "rk_live_"),
    *("rk_test_", "whsec_", "ghp_", "gho_", "ghu_", "ghs_", "ghr_", "github_pat_", "glpat-"),
    *("gldt-", "glrt-", "glptt-", "xoxb-", "xoxp-", "xoxa-", "xoxr-", "xoxe-", "xapp-", "hf_"),
    *("npm_", "shpat_", "shpss_", "shpca_", "dop_v1_", "doo_v1_", "pypi-AgE", "sq0atp-"),
    *("sq0csp-", "AKIA", "ASIA", "AIza"),
)
_PREFIXED_TOKEN = re.compile(
    r"(?<![A-Za-z0-9_])(?:" + "|".join(re.escape(p) for p in _PREFIXES) + r")[A-Za-z0-9_\-]{16,}"
)
"""A token that starts as a provider's credentials start (`sk-ant-`, `ghp_`, `AKIA`, …) is
taken for one even when the rule set does not (a key cut short, a length or checksum off):
those prefixes name nothing else."""


_PRIVATE_KEY = re.compile(
    r"-----BEGIN [A-Z0-9 ]*PRIVATE KEY(?: BLOCK)?-----"
    r"(?:.*?-----END [A-Z0-9 ]*PRIVATE KEY(?: BLOCK)?-----|.*\Z)",
    re.S,
)
"""A private key block, whatever its body (one cut short, one a rule finds no key in): up to
its END line, else to the end of the text."""


def prefixed_spans(text: str) -> list[Span]:
    out = []
    if "PRIVATE KEY" in text:
        out += [Span(m.start(), m.end(), "private-key") for m in _PRIVATE_KEY.finditer(text)]
    if any(prefix in text for prefix in _PREFIXES):
        out += [Span(m.start(), m.end(), PREFIXED) for m in _PREFIXED_TOKEN.finditer(text)]
    return out


# ---------------------------------------------------------------------------------------
# High-entropy tokens

_TOKEN = re.compile(r"(?<![\w+/=.~-])[A-Za-z0-9+/_~.-]{20,2048}={0,2}(?![\w+/=~-])")
_HEX = re.compile(r"[0-9a-fA-F-]+")
_LOCKFILE_HASH = re.compile(r"(?:sha1|sha256|sha384|sha512|md5)-|h1:")
"""Integrity hashes in lock files (`sha512-…`, Go's `h1:…`): content hashes, not secrets."""
_DIGIT = re.compile(r"\d")
_LETTER_RUNS = re.compile(r"[A-Za-z]+")
_SEPARATORS = re.compile(r"[-._/+~=]")
_WORD_NUMBER = re.compile(r"[A-Za-z][a-z]*\d+|\d+[a-z]+")
"""`v1`, `bot1381562265`, `x64`, `2nd`: a word and a number, not random."""


def entropy_spans(text: str) -> Iterator[Span]:
    """Tokens of 20 or more characters that read as random: letters and digits mixed, many
    switches between upper case, lower case and digits, and a high Shannon entropy."""
    for match in _TOKEN.finditer(text):
        token = match.group()
        if _LOCKFILE_HASH.match(text, max(0, match.start() - 3)) or _LOCKFILE_HASH.match(token):
            continue
        if _looks_random(token):
            yield Span(match.start(), match.end(), ENTROPY)


def _looks_random(token: str) -> bool:
    if _HEX.fullmatch(token) or (len(token) < 24 and not _DIGIT.search(token)):
        return False
    letters = sum(len(run) for run in _LETTER_RUNS.findall(token))
    if letters < len(token) / 3:
        return False  # numbers, dates, versions
    mixed = sum(len(part) for part in _SEPARATORS.split(token) if _mixed(part))
    if mixed < 12:
        return False  # words and numbers: paths, hosts, identifiers, `bge-small-en-v1.5`
    return shannon(token) >= min(4.0, math.log2(len(token)) - 0.6)


def _mixed(part: str) -> bool:
    """A part of a token that mixes cases, or letters and digits, as random text does:
    `hiVxdC2` splits into fragments of one or two letters (`hi`, `Vxd`, `C`, `2`); words,
    identifiers, `v1`, `bot1381562265` and hex groups do not."""
    if len(part) < 4 or _HEX.fullmatch(part) or _WORD_NUMBER.fullmatch(part):
        return False
    words = _WORDS.findall(part)
    long = sum(len(w) for w in words if len(w) >= 3 or w.isdigit())
    if long >= 0.7 * len(part) and not any(len(w) == 1 and w.isalpha() for w in words):
        return False  # an identifier: `getBase64FromDataURL`, `currentSessionIDWithFallback`
    has_lower = part != part.upper()
    has_upper = part != part.lower()
    return (has_lower and has_upper) or bool(_DIGIT.search(part) and _LETTER_RUNS.search(part))


def shannon(text: str) -> float:
    size = len(text)
    return -sum(n / size * math.log2(n / size) for n in Counter(text).values())
