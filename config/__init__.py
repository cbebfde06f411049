"""Settings: `default.toml` < a user config file < `NEWSDESK_*` env vars < CLI flags."""

from config.settings import Settings, load_settings

__all__ = ["Settings", "load_settings"]
