"""Which environment values are secrets, and redacting them from text (pure).

Secrets are read only from the environment, so the environment is also where to find every
value that must never be printed or logged, whatever a provider echoes back in its errors.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping

# The secrets Newsdesk reads; any other variable named like a secret is treated as one too.
SECRET_ENV_NAMES = (
    "NEWSDESK_LLM_API_KEY", "OPENAI_API_KEY", "ANTHROPIC_API_KEY",
    "SLACK_BOT_TOKEN", "SLACK_APP_TOKEN", "SLACK_SIGNING_SECRET",
    "NEWSDESK_CHROMA_TOKEN", "NEWSDESK_API_TOKEN",
)
_SECRET_LIKE_NAME = re.compile(r"(API_?KEY|TOKEN|SECRET|PASSWORD|PASSWD)$", re.IGNORECASE)
# Shorter values ("1", "true") would redact ordinary words; real keys are far longer.
MIN_SECRET_LENGTH = 8
REDACTED = "[redacted]"


def secret_values(environ: Mapping[str, str]) -> tuple[str, ...]:
    """The values of secret variables in `environ`, longest first."""
    values = {
        value.strip() for name, value in environ.items()
        if (name in SECRET_ENV_NAMES or _SECRET_LIKE_NAME.search(name))
        and len(value.strip()) >= MIN_SECRET_LENGTH
    }
    return tuple(sorted(values, key=len, reverse=True))


# Credentials written into URLs: `user:pass@host`, and query parameters named like secrets.
_URL_USERINFO = re.compile(r"(?<=://)[^/@\s:]+(?::[^/@\s]*)?@")
_URL_SECRET_PARAM = re.compile(
    r"(?<=[?&;])((?:api[_-]?key|apikey|key|token|access[_-]?token|auth|secret|password|passwd|"
    r"pwd|sig|signature|client[_-]?secret)=)[^&#\s\"'<>]+", re.IGNORECASE)


def redact_url_credentials(text: str) -> str:
    """`text` with the credentials in any URL in it (`user:pass@`, `?api_key=…`) replaced."""
    if "://" not in text and "=" not in text:
        return text
    text = _URL_USERINFO.sub(f"{REDACTED}@", text)
    return _URL_SECRET_PARAM.sub(lambda m: m.group(1) + REDACTED, text)


def redact(text: str, secrets: Iterable[str]) -> str:
    """`text` with every occurrence of each secret, and every credential written into a URL,
    replaced by a marker."""
    for secret in secrets:
        if secret in text:
            text = text.replace(secret, REDACTED)
    return redact_url_credentials(text)
