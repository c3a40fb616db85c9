"""Fake secrets of many kinds, well-formed and generated (never real), for redaction tests
and bench/secrets.py.

Each kind makes a `Sample` from a seeded random source: the snippet a person or a tool
would write it in (a config line, a header, a command, a key file), and the `material`:
the generated pieces that must not survive redaction (well-known prefixes such as `sk_live_`
or `-----BEGIN` are not material). Formats follow the issuers' published shapes: prefixes,
lengths, alphabets, and the CRC32 checksum that GitHub and npm tokens end with.
"""

from __future__ import annotations

import base64
import json
import random
import string
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

ALNUM = string.ascii_letters + string.digits
BASE62 = string.digits + string.ascii_uppercase + string.ascii_lowercase
URLSAFE = ALNUM + "-_"
HEX = "0123456789abcdef"
UPPER32 = string.ascii_uppercase + "234567"
PASSWORD = ALNUM + "!%_-."


@dataclass(frozen=True)
class Sample:
    kind: str
    snippet: str
    """The secret as it appears in text: with its key, header, URL or armour."""
    material: tuple[str, ...]
    """The generated pieces of the secret; none may survive redaction."""
    structured: Any = None
    """How a tool call's input would hold it (a JSON object), when not as text."""

    def tool_input(self) -> Any:
        if self.structured is not None:
            return self.structured
        return {"file_path": "/srv/app/deploy.env", "content": self.snippet}

    def needles(self) -> list[str]:
        """Strings whose presence in an output means (part of) the secret leaked: each
        piece whole, and for long pieces its head and tail (a partial redaction leaks)."""
        out: list[str] = []
        for piece in self.material:
            out.append(piece)
            if len(piece) >= 24:
                out += [piece[:12], piece[-12:]]
        return out


@dataclass
class Kind:
    name: str
    make: Callable[[random.Random], Sample]
    aliases: list[str] = field(default_factory=list)


def _pick(rng: random.Random, n: int, alphabet: str = ALNUM) -> str:
    return "".join(rng.choices(alphabet, k=n))


def _base62(value: int, width: int) -> str:
    digits = ""
    while value:
        value, rest = divmod(value, 62)
        digits = BASE62[rest] + digits
    return digits.rjust(width, "0")


def _crc_token(rng: random.Random, prefix: str) -> str:
    """GitHub's (and npm's) token shape: 30 random base62 characters, then the CRC32 of
    them in 6 base62 digits."""
    body = _pick(rng, 30)
    return prefix + body + _base62(zlib.crc32(body.encode()), 6)


def _pem(rng: random.Random, label: str, head: str, lines: int) -> tuple[str, tuple[str, ...]]:
    """A PEM block: `head` (the DER prefix of that key type, base64) then random base64,
    in lines of 64."""
    body = head + base64.b64encode(rng.randbytes(48 * lines)).decode()
    rows = [body[i : i + 64] for i in range(0, len(body), 64)]
    block = f"-----BEGIN {label}-----\n" + "\n".join(rows) + f"\n-----END {label}-----"
    return block, tuple(rows[1:4])


def _one(kind: str, template: str, secret: str) -> Sample:
    return Sample(kind, template.format(secret), (secret,))


KINDS: list[Kind] = []


def kind(name: str) -> Callable[[Callable[[random.Random], Sample]], Callable[..., Sample]]:
    def register(make: Callable[[random.Random], Sample]) -> Callable[..., Sample]:
        KINDS.append(Kind(name, make))
        return make

    return register


@kind("aws-access-key-id")
def _aws_id(rng: random.Random) -> Sample:
    key = "AKIA" + _pick(rng, 16, UPPER32)
    return Sample("aws-access-key-id", f"aws configure set aws_access_key_id {key}", (key[4:],))


@kind("aws-secret-access-key")
def _aws_secret(rng: random.Random) -> Sample:
    secret = _pick(rng, 40, ALNUM + "+/")
    text = f"[default]\nregion = eu-west-1\naws_secret_access_key = {secret}"
    return Sample("aws-secret-access-key", text, (secret,))


@kind("aws-secret-access-key-bare")
def _aws_secret_bare(rng: random.Random) -> Sample:
    key_id = "AKIA" + _pick(rng, 16, UPPER32)
    secret = _pick(rng, 40, ALNUM + "+/")
    text = f"Access key ID,Secret access key\n{key_id},{secret}"
    return Sample("aws-secret-access-key-bare", text, (key_id[4:], secret))


@kind("aws-session-token")
def _aws_session(rng: random.Random) -> Sample:
    token = "IQoJb3JpZ2luX2VjE" + base64.b64encode(rng.randbytes(270)).decode()
    return Sample("aws-session-token", f"export AWS_SESSION_TOKEN={token}", (token[17:],))


@kind("aws-session-token-bare")
def _aws_session_bare(rng: random.Random) -> Sample:
    token = "FwoGZXIvYXdzE" + base64.b64encode(rng.randbytes(240)).decode()
    return Sample("aws-session-token-bare", f"Temporary credentials:\n{token}\n", (token[13:],))


@kind("github-classic-token")
def _ghp(rng: random.Random) -> Sample:
    token = _crc_token(rng, "ghp_")
    return Sample(
        "github-classic-token", f"git clone https://{token}@github.com/acme/api.git", (token[4:],)
    )


@kind("github-oauth-token")
def _gho(rng: random.Random) -> Sample:
    return _one("github-oauth-token", "gh auth token prints {}", _crc_token(rng, "gho_"))


@kind("github-app-token")
def _ghs(rng: random.Random) -> Sample:
    token = _crc_token(rng, "ghs_")
    return Sample(
        "github-app-token",
        f'curl -H "Authorization: token {token}" https://api.github.com/repos/acme/api',
        (token[4:],),
    )


@kind("github-fine-grained-token")
def _github_pat(rng: random.Random) -> Sample:
    token = "github_pat_11" + _pick(rng, 20, UPPER32) + "_" + _pick(rng, 59)
    return Sample("github-fine-grained-token", f"GITHUB_TOKEN: {token}", (token[11:],))


@kind("gitlab-token")
def _gitlab(rng: random.Random) -> Sample:
    token = "glpat-" + _pick(rng, 20, URLSAFE)
    return Sample(
        "gitlab-token",
        f"git remote set-url origin https://oauth2:{token}@gitlab.com/x/y",
        (token[6:],),
    )


@kind("openai-key")
def _openai(rng: random.Random) -> Sample:
    key = "sk-proj-" + _pick(rng, 74, URLSAFE) + "T3BlbkFJ" + _pick(rng, 74, URLSAFE)
    return Sample("openai-key", f"client = OpenAI(api_key='{key}')", (key[8:82], key[90:]))


@kind("anthropic-key")
def _anthropic(rng: random.Random) -> Sample:
    key = "sk-ant-api03-" + _pick(rng, 93, URLSAFE) + "AA"
    return Sample("anthropic-key", f"set the key with ANTHROPIC_API_KEY or pass {key}", (key[13:],))


@kind("google-api-key")
def _google(rng: random.Random) -> Sample:
    key = "AIza" + _pick(rng, 35, URLSAFE)
    return Sample(
        "google-api-key",
        f"https://maps.googleapis.com/maps/api/geocode/json?address=x&key={key}",
        (key[4:],),
    )


@kind("google-oauth-client-secret")
def _gocspx(rng: random.Random) -> Sample:
    secret = "GOCSPX-" + _pick(rng, 28, URLSAFE)
    return _one("google-oauth-client-secret", "the client secret shown once: {}", secret)


@kind("jwt")
def _jwt(rng: random.Random) -> Sample:
    def seg(data: bytes) -> str:
        return base64.urlsafe_b64encode(data).decode().rstrip("=")

    claims = {"sub": str(rng.randrange(10**9)), "name": _pick(rng, 8), "iat": 1760000000}
    payload = seg(json.dumps(claims, separators=(",", ":")).encode())
    signature = seg(rng.randbytes(32))
    header = seg(b'{"alg":"HS256","typ":"JWT"}')
    token = f"{header}.{payload}.{signature}"
    return Sample("jwt", f"the session cookie was {token}", (payload, signature))


@kind("rsa-private-key")
def _rsa(rng: random.Random) -> Sample:
    block, material = _pem(rng, "RSA PRIVATE KEY", "MIIEpAIBAAKCAQEA", 25)
    return Sample("rsa-private-key", f"cat ~/.ssh/id_rsa\n{block}\n", material)


@kind("ec-private-key")
def _ec(rng: random.Random) -> Sample:
    block, material = _pem(rng, "EC PRIVATE KEY", "MHcCAQEEI", 4)
    return Sample("ec-private-key", block, material)


@kind("openssh-private-key")
def _openssh(rng: random.Random) -> Sample:
    block, material = _pem(rng, "OPENSSH PRIVATE KEY", "b3BlbnNzaC1rZXktdjEAAAAA", 8)
    return Sample("openssh-private-key", block, material)


@kind("pkcs8-private-key")
def _pkcs8(rng: random.Random) -> Sample:
    block, material = _pem(rng, "PRIVATE KEY", "MIIEvQIBADANBgkqhkiG9w0BAQEFAASC", 25)
    return Sample("pkcs8-private-key", block, material)


@kind("pgp-private-key")
def _pgp(rng: random.Random) -> Sample:
    body = "lQdGBGX" + base64.b64encode(rng.randbytes(48 * 10)).decode()
    rows = [body[i : i + 64] for i in range(0, len(body), 64)]
    crc = "=" + base64.b64encode(rng.randbytes(3)).decode()
    block = (
        "-----BEGIN PGP PRIVATE KEY BLOCK-----\n\n"
        + "\n".join(rows)
        + f"\n{crc}\n-----END PGP PRIVATE KEY BLOCK-----"
    )
    return Sample("pgp-private-key", f"gpg --export-secret-keys --armor\n{block}", tuple(rows[1:4]))


@kind("url-password")
def _url_password(rng: random.Random) -> Sample:
    password = _pick(rng, 18)
    return _one("url-password", "DATABASE_URL=postgres://app:{}@db.internal:5432/app", password)


@kind("url-password-empty-user")
def _url_empty_user(rng: random.Random) -> Sample:
    password = _pick(rng, 16)
    return _one(
        "url-password-empty-user", "redis-cli -u redis://:{}@cache.internal:6379/0", password
    )


@kind("slack-bot-token")
def _slack_bot(rng: random.Random) -> Sample:
    token = f"xoxb-{_pick(rng, 12, string.digits)}-{_pick(rng, 13, string.digits)}-{_pick(rng, 24)}"
    return Sample("slack-bot-token", f"SLACK_BOT_TOKEN={token}", (token[5:],))


@kind("slack-app-token")
def _slack_app(rng: random.Random) -> Sample:
    token = (
        f"xapp-1-A{_pick(rng, 10, UPPER32)}-{_pick(rng, 13, string.digits)}-{_pick(rng, 64, HEX)}"
    )
    return Sample("slack-app-token", f"socket mode starts with {token}", (token[7:],))


@kind("slack-webhook")
def _slack_webhook(rng: random.Random) -> Sample:
    path = f"T{_pick(rng, 8, UPPER32)}/B{_pick(rng, 10, UPPER32)}/{_pick(rng, 24)}"
    url = f"https://hooks.slack.com/services/{path}"
    return Sample("slack-webhook", f'curl -X POST -d \'{{"text":"deployed"}}\' {url}', (path,))


@kind("stripe-secret-key")
def _stripe(rng: random.Random) -> Sample:
    key = "sk_live_51" + _pick(rng, 97)
    return Sample("stripe-secret-key", f'stripe.api_key = "{key}"', (key[8:],))


@kind("stripe-restricted-key")
def _stripe_restricted(rng: random.Random) -> Sample:
    key = "rk_live_51" + _pick(rng, 97)
    return Sample(
        "stripe-restricted-key", f"use the restricted key {key} for the reporting job", (key[8:],)
    )


@kind("stripe-webhook-secret")
def _whsec(rng: random.Random) -> Sample:
    secret = "whsec_" + _pick(rng, 32)
    return Sample("stripe-webhook-secret", f"stripe listen printed: Ready! {secret}", (secret[6:],))


@kind("twilio-api-key")
def _twilio(rng: random.Random) -> Sample:
    key = "SK" + _pick(rng, 32, HEX)
    return _one("twilio-api-key", "client = Client('{}', api_secret, account_sid)", key)


@kind("sendgrid-key")
def _sendgrid(rng: random.Random) -> Sample:
    key = f"SG.{_pick(rng, 22, URLSAFE)}.{_pick(rng, 43, URLSAFE)}"
    return Sample("sendgrid-key", f"sg = SendGridAPIClient('{key}')", (key[3:],))


@kind("mailgun-key")
def _mailgun(rng: random.Random) -> Sample:
    key = "key-" + _pick(rng, 32, HEX)
    return Sample(
        "mailgun-key", f"curl -s --user 'api:{key}' https://api.mailgun.net/v3/x", (key[4:],)
    )


@kind("mailchimp-key")
def _mailchimp(rng: random.Random) -> Sample:
    key = _pick(rng, 32, HEX) + "-us" + _pick(rng, 2, string.digits)
    return _one("mailchimp-key", "mailchimp.set_config({{'api_key': '{}'}})", key)


@kind("npm-token")
def _npm(rng: random.Random) -> Sample:
    token = _crc_token(rng, "npm_")
    return Sample("npm-token", f"//registry.npmjs.org/:_authToken={token}", (token[4:],))


@kind("pypi-token")
def _pypi(rng: random.Random) -> Sample:
    token = "pypi-AgEIcHlwaS5vcmc" + _pick(rng, 140, URLSAFE)
    return Sample("pypi-token", f"twine upload -u __token__ -p {token} dist/*", (token[19:],))


@kind("huggingface-token")
def _hf(rng: random.Random) -> Sample:
    token = "hf_" + _pick(rng, 34, string.ascii_letters)
    return Sample("huggingface-token", f"huggingface-cli login --token {token}", (token[3:],))


@kind("discord-bot-token")
def _discord(rng: random.Random) -> Sample:
    user = base64.b64encode(str(10**17 + rng.randrange(9 * 10**17)).encode()).decode()
    token = f"{user.rstrip('=')}.{_pick(rng, 6, URLSAFE)}.{_pick(rng, 38, URLSAFE)}"
    return Sample("discord-bot-token", f"bot.run('{token}')", (token,))


@kind("discord-webhook")
def _discord_webhook(rng: random.Random) -> Sample:
    secret = _pick(rng, 68, URLSAFE)
    url = f"https://discord.com/api/webhooks/{_pick(rng, 18, string.digits)}/{secret}"
    return Sample("discord-webhook", f"notify via {url}", (secret,))


@kind("telegram-bot-token")
def _telegram(rng: random.Random) -> Sample:
    token = f"{_pick(rng, 10, string.digits)}:AA{_pick(rng, 33, URLSAFE)}"
    return Sample(
        "telegram-bot-token", f"curl https://api.telegram.org/bot{token}/getUpdates", (token,)
    )


@kind("square-access-token")
def _square(rng: random.Random) -> Sample:
    token = "EAAA" + _pick(rng, 60, URLSAFE)
    return Sample("square-access-token", f"Square access token (production): {token}", (token[4:],))


@kind("shopify-token")
def _shopify(rng: random.Random) -> Sample:
    token = "shpat_" + _pick(rng, 32, HEX)
    return Sample("shopify-token", f"X-Shopify-Access-Token: {token}", (token[6:],))


@kind("digitalocean-token")
def _digitalocean(rng: random.Random) -> Sample:
    token = "dop_v1_" + _pick(rng, 64, HEX)
    return Sample("digitalocean-token", f"doctl auth init --access-token {token}", (token[7:],))


@kind("databricks-token")
def _databricks(rng: random.Random) -> Sample:
    token = "dapi" + _pick(rng, 32, HEX)
    return Sample(
        "databricks-token", f"databricks configure --host x --token {token}", (token[4:],)
    )


@kind("azure-storage-key")
def _azure(rng: random.Random) -> Sample:
    key = base64.b64encode(rng.randbytes(64)).decode()
    text = (
        "DefaultEndpointsProtocol=https;AccountName=acmeprod;"
        f"AccountKey={key};EndpointSuffix=core.windows.net"
    )
    return Sample("azure-storage-key", text, (key.rstrip("="),))


@kind("basic-auth-header")
def _basic(rng: random.Random) -> Sample:
    value = base64.b64encode(f"deploy:{_pick(rng, 20)}".encode()).decode()
    return Sample("basic-auth-header", f"Authorization: Basic {value}", (value.rstrip("="),))


@kind("bearer-header")
def _bearer(rng: random.Random) -> Sample:
    token = _pick(rng, 40, URLSAFE)
    return _one(
        "bearer-header", 'curl -H "Authorization: Bearer {}" https://api.internal/v1', token
    )


@kind("keyed-env")
def _keyed_env(rng: random.Random) -> Sample:
    secret = _pick(rng, 20, PASSWORD)
    return _one("keyed-env", "export DB_PASSWORD={}\nexport DB_HOST=db.internal", secret)


@kind("keyed-yaml")
def _keyed_yaml(rng: random.Random) -> Sample:
    secret = _pick(rng, 16, PASSWORD)
    return _one(
        "keyed-yaml", "database:\n  host: db.internal\n  password: {}\n  port: 5432", secret
    )


@kind("keyed-json")
def _keyed_json(rng: random.Random) -> Sample:
    secret = _pick(rng, 24, PASSWORD)
    return _one("keyed-json", '{{"user": "app", "password": "{}", "host": "db"}}', secret)


@kind("keyed-client-secret")
def _keyed_client_secret(rng: random.Random) -> Sample:
    secret = _pick(rng, 32, URLSAFE)
    return _one("keyed-client-secret", 'OAUTH_CLIENT_SECRET="{}"', secret)


@kind("cli-flag")
def _cli_flag(rng: random.Random) -> Sample:
    secret = _pick(rng, 18, PASSWORD)
    return _one("cli-flag", "psql-admin --host db --password={} --yes", secret)


@kind("mysql-p")
def _mysql(rng: random.Random) -> Sample:
    secret = _pick(rng, 14, ALNUM)
    return _one("mysql-p", "mysql -u root -p{} -h db.internal app < dump.sql", secret)


@kind("keyed-structured")
def _structured(rng: random.Random) -> Sample:
    secret = _pick(rng, 28, PASSWORD)
    value = {"command": "./deploy.sh", "env": {"SERVICE_API_TOKEN": secret, "REGION": "eu"}}
    return Sample(
        "keyed-structured",
        '{"env": {"SERVICE_API_TOKEN": "' + secret + '"}}',
        (secret,),
        structured=value,
    )


@kind("netrc")
def _netrc(rng: random.Random) -> Sample:
    secret = _pick(rng, 20, PASSWORD)
    return _one("netrc", "machine api.internal login deploy password {}", secret)


def samples(seed: int = 7) -> Iterator[Sample]:
    """One sample of every kind, the same for the same seed."""
    rng = random.Random(seed)
    for each in KINDS:
        yield each.make(rng)


def kind_names() -> list[str]:
    return [each.name for each in KINDS]


# ---------------------------------------------------------------------------------------
# Sessions that carry a secret in every part kind

PLACEMENTS = ("title", "user_text", "assistant_text", "reasoning", "tool_input", "tool_output")


def placed(seed: int = 7) -> list[dict[str, Sample]]:
    """Per kind, one sample per placement, each with its own material (so that a leak
    names the placement it came from)."""
    rows = [list(samples(seed + offset)) for offset in range(len(PLACEMENTS))]
    return [
        {placement: rows[i][k] for i, placement in enumerate(PLACEMENTS)} for k in range(len(KINDS))
    ]


def session_with(where: dict[str, Sample], cwd: str, tool: str = "claude") -> Any:
    """A session of `tool` whose title, texts, reasoning, tool input and tool output each
    hold one of `where`'s secrets."""
    from tether.model import Message, Reasoning, Session, Text, ToolCall, ToolResult, session_id

    native_id = "0b7e4c1a-5d2f-4e8a-9c3b-" + format(
        abs(hash(where["title"].snippet)) % 16**12, "012x"
    )
    call = "toolu_01" + "A" * 22
    messages = [
        Message(
            "user", [Text("Please deploy:\n" + where["user_text"].snippet)], "2026-01-01T00:00:00Z"
        ),
        Message(
            "assistant",
            [
                Reasoning("I should look at:\n" + where["reasoning"].snippet, "sig"),
                Text("Here is what I found:\n" + where["assistant_text"].snippet),
                ToolCall(call, "Write", where["tool_input"].tool_input()),
            ],
            "2026-01-01T00:00:05Z",
            model="claude-sonnet-4-5",
        ),
        Message("tool", [ToolResult(call, where["tool_output"].snippet)], "2026-01-01T00:00:09Z"),
        Message("assistant", [Text("Done.")], "2026-01-01T00:00:12Z", model="claude-sonnet-4-5"),
    ]
    return Session(
        id=session_id(tool, native_id),
        tool=tool,
        native_id=native_id,
        cwd=cwd,
        project=cwd,
        title="deploy " + where["title"].snippet,
        created_at="2026-01-01T00:00:00Z",
        updated_at="2026-01-01T00:00:12Z",
        messages=messages,
    )


def leaks(output: str, where: dict[str, Sample]) -> list[str]:
    """The placements whose secret (or part of it) is in `output`."""
    return [p for p, sample in where.items() if any(n in output for n in sample.needles())]
