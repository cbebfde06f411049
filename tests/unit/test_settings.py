from pathlib import Path

import pytest

from config import load_settings
from config.errors import ConfigError


def test_defaults_come_from_the_shipped_file(data_dir: Path) -> None:
    settings = load_settings()
    assert settings.embedding.model == "all-MiniLM-L6-v2"
    assert settings.chunking.max_tokens == 256
    assert settings.data_dir == data_dir  # NEWSDESK_DATA_DIR


def test_file_then_env_then_flags(tmp_path: Path, data_dir: Path,
                                  monkeypatch: pytest.MonkeyPatch) -> None:
    user = tmp_path / "mine.toml"
    user.write_text("[retrieval]\nk = 3\nrrf_k = 7\n[embedding]\nthreads = 1\n")
    settings = load_settings(user)
    retrieval = settings.retrieval
    assert (retrieval.k, retrieval.rrf_k, settings.embedding.threads) == (3, 7, 1)
    assert settings.retrieval.per_article_cap == 1  # untouched keys keep the defaults

    monkeypatch.setenv("NEWSDESK_RETRIEVAL__K", "4")
    assert load_settings(user).retrieval.k == 4
    assert load_settings(user).retrieval.rrf_k == 7
    assert load_settings(user, **{"retrieval.k": 5}).retrieval.k == 5


def test_config_file_from_env_and_chroma_url_alias(tmp_path: Path, data_dir: Path,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    user = tmp_path / "mine.toml"
    user.write_text('[store]\ncollection = "team-news"\n')
    monkeypatch.setenv("NEWSDESK_CONFIG", str(user))
    monkeypatch.setenv("NEWSDESK_CHROMA_URL", "http://127.0.0.1:8123")
    settings = load_settings()
    assert settings.store.collection == "team-news"
    assert settings.store.url == "http://127.0.0.1:8123"


def test_bad_values_and_missing_files_are_config_errors(tmp_path: Path, data_dir: Path,
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(ConfigError, match="not found"):
        load_settings(tmp_path / "nope.toml")
    broken = tmp_path / "broken.toml"
    broken.write_text("[retrieval\n")
    with pytest.raises(ConfigError, match="cannot read"):
        load_settings(broken)
    monkeypatch.setenv("NEWSDESK_RETRIEVAL__K", "many")
    with pytest.raises(ConfigError, match=r"retrieval\.k"):
        load_settings()


def test_a_mistyped_key_is_an_error_that_names_the_close_one(
        tmp_path: Path, data_dir: Path, monkeypatch: pytest.MonkeyPatch,
        caplog: pytest.LogCaptureFixture) -> None:
    # [retreival], kk = 8 and data_dri were ignored without a word (a tester's finding)
    for text, said in [
            ('[retreival]\nk = 8\n', "unknown setting 'retreival' in .* 'retrieval'"),
            ('data_dri = "/tmp/x"\n', "unknown setting 'data_dri' in .* 'data_dir'"),
            ('[retrieval]\nkk = 8\n', r"'retrieval\.kk' in .* \(did you mean 'k'\?\)"),
            ('[[sources]]\nlocation = "x"\nrefrsh = "1h"\n',
             r"'sources\.0\.refrsh' in .* \(did you mean 'refresh'\?\)"),
            ('[[slack.desks]]\nchannel = "C1"\nreplies = "mention"\n',
             r"'slack\.desks\.0\.replies' in .* \(did you mean 'reply'\?\)")]:
        written = tmp_path / "newsdesk.toml"
        written.write_text(text)
        with pytest.raises(ConfigError, match=said):
            load_settings(written)
    monkeypatch.setenv("NEWSDESK_RETRIEVAL__KK", "3")
    with pytest.raises(ConfigError, match=r"retrieval\.kk: unknown setting \(set by "
                                          r"NEWSDESK_RETRIEVAL__KK\) \(did you mean 'k'\?\)"):
        load_settings()
    monkeypatch.delenv("NEWSDESK_RETRIEVAL__KK")
    # a whole name unknown may be another program's: warned about, not fatal
    monkeypatch.setenv("NEWSDESK_RETREIVAL__K", "3")
    monkeypatch.setenv("NEWSDESK_API_TOKEN", "t" * 32)  # read by name: no warning
    with caplog.at_level("WARNING", logger="config.settings"):
        assert load_settings().retrieval.k == 6
    assert [r.getMessage() for r in caplog.records] == [
        "ignoring NEWSDESK_RETREIVAL__K: no such setting (did you mean 'retrieval'?)"]


def test_data_dir_expands_user(monkeypatch: pytest.MonkeyPatch, data_dir: Path) -> None:
    monkeypatch.setenv("NEWSDESK_DATA_DIR", "~/nd")
    assert load_settings().data_dir == Path("~/nd").expanduser()


def test_the_shipped_file_and_the_settings_models_agree_key_by_key() -> None:
    """Every key of config/default.toml is a settings field with that very default, and every
    field of a section appears in the file: a default is written once, checked here."""
    import tomllib

    from config.settings import DEFAULT_CONFIG, Settings

    shipped = tomllib.loads(DEFAULT_CONFIG.read_text())
    model_defaults = Settings.model_construct().model_dump(mode="json")
    assert shipped.pop("data_dir") == model_defaults.pop("data_dir")
    model_defaults.pop("sources")
    assert set(shipped) == set(model_defaults)
    for section, values in shipped.items():
        assert values == model_defaults[section], section


def test_a_store_that_turns_out_read_only_is_one_clear_config_error(
        data_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Permission bits can pass (ACLs, network file systems) while SQLite still refuses:
    Chroma's error becomes the same one-line ConfigError as the up-front check gives."""
    import chromadb

    from bot.factory import chroma_connector

    def refuses(**kwargs: object) -> None:
        raise RuntimeError("error returned from database: attempt to write a readonly database")

    monkeypatch.setattr(chromadb, "PersistentClient", refuses)
    connect, location, _ = chroma_connector(load_settings())
    with pytest.raises(ConfigError, match=r"cannot write to .*chroma: the embedded store needs"):
        connect()
    assert location == str(data_dir / "chroma")
