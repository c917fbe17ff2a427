"""Settings: environment over huddle.toml over defaults, a private data dir,
and a secret key generated once."""

from __future__ import annotations

import json
import stat
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from coordinator import config
from coordinator.errors import InvalidInput, StorageError

REPO_ROOT = Path(__file__).resolve().parent.parent
LONG_SECRET = "s" * 40


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def write_toml(data_dir: Path, text: str) -> None:
    data_dir.mkdir(parents=True, exist_ok=True)
    (data_dir / config.CONFIG_FILE).write_text(textwrap.dedent(text), encoding="utf-8")


def load_error(env: dict[str, str]) -> InvalidInput:
    with pytest.raises(InvalidInput) as caught:
        config.load(env)
    return caught.value


# -- precedence ---------------------------------------------------------------


def test_defaults_apply_when_nothing_is_set(tmp_path):
    settings = config.load({"HUDDLE_DATA": str(tmp_path)})

    assert settings.data_dir == tmp_path
    assert settings.network == "bitcoin"
    assert settings.database == tmp_path / "huddle.sqlite3"
    assert len(settings.secret_key) >= 32


def test_file_values_override_defaults(tmp_path):
    write_toml(tmp_path, f"""\
        network = "testnet"
        database = "{tmp_path / 'other.sqlite3'}"
        secret_key = "{LONG_SECRET}"
        """)

    settings = config.load({"HUDDLE_DATA": str(tmp_path)})

    assert settings.network == "testnet"
    assert settings.database == tmp_path / "other.sqlite3"
    assert settings.secret_key == LONG_SECRET


def test_environment_overrides_file_values(tmp_path):
    write_toml(tmp_path, f"""\
        network = "testnet"
        database = "{tmp_path / 'from-file.sqlite3'}"
        secret_key = "{LONG_SECRET}"
        """)
    env = {
        "HUDDLE_DATA": str(tmp_path),
        "HUDDLE_NETWORK": "regtest",
        "HUDDLE_DATABASE": str(tmp_path / "from-env.sqlite3"),
        "HUDDLE_SECRET_KEY": "e" * 32,
    }

    settings = config.load(env)

    assert settings.network == "regtest"
    assert settings.database == tmp_path / "from-env.sqlite3"
    assert settings.secret_key == "e" * 32


def test_an_empty_environment_variable_counts_as_unset(tmp_path):
    write_toml(tmp_path, 'network = "signet"\n')

    settings = config.load({"HUDDLE_DATA": str(tmp_path), "HUDDLE_NETWORK": ""})

    assert settings.network == "signet"


def test_a_secret_key_from_the_environment_writes_no_secret_file(tmp_path):
    config.load({"HUDDLE_DATA": str(tmp_path), "HUDDLE_SECRET_KEY": LONG_SECRET})

    assert not (tmp_path / config.SECRET_FILE).exists()


def test_public_settings_hide_the_secret_key(tmp_path):
    settings = config.load({"HUDDLE_DATA": str(tmp_path), "HUDDLE_SECRET_KEY": LONG_SECRET})

    public = settings.public()

    assert LONG_SECRET not in json.dumps(public)
    assert set(public) == set(config.SETTINGS)


# -- networks -----------------------------------------------------------------


@pytest.mark.parametrize("name", ["bitcoin", "testnet", "testnet4", "signet", "regtest"])
def test_every_known_network_is_accepted(tmp_path, name):
    assert config.load({"HUDDLE_DATA": str(tmp_path), "HUDDLE_NETWORK": name}).network == name


@pytest.mark.parametrize("alias", ["mainnet", "MAINNET", "main"])
def test_mainnet_is_accepted_as_bitcoin(tmp_path, alias):
    assert config.load({"HUDDLE_DATA": str(tmp_path), "HUDDLE_NETWORK": alias}).network == "bitcoin"


def test_an_unknown_network_in_the_environment_is_refused(tmp_path):
    err = load_error({"HUDDLE_DATA": str(tmp_path), "HUDDLE_NETWORK": "litecoin"})

    assert err.code == "unknown_network"


def test_an_unknown_network_in_the_file_is_refused(tmp_path):
    write_toml(tmp_path, 'network = "testnet3000"\n')

    err = load_error({"HUDDLE_DATA": str(tmp_path)})

    assert err.code == "unknown_network"


# -- bad configuration ----------------------------------------------------------


def test_a_secret_key_shorter_than_32_characters_is_refused(tmp_path):
    err = load_error({"HUDDLE_DATA": str(tmp_path), "HUDDLE_SECRET_KEY": "x" * 31})

    assert err.code == "bad_config"


def test_a_secret_key_of_exactly_32_characters_is_accepted(tmp_path):
    settings = config.load({"HUDDLE_DATA": str(tmp_path), "HUDDLE_SECRET_KEY": "x" * 32})

    assert settings.secret_key == "x" * 32


def test_a_short_secret_key_in_the_file_is_refused(tmp_path):
    write_toml(tmp_path, 'secret_key = "too short"\n')

    assert load_error({"HUDDLE_DATA": str(tmp_path)}).code == "bad_config"


def test_an_unknown_setting_in_the_file_is_refused(tmp_path):
    write_toml(tmp_path, 'network = "testnet"\nnetwrok = "bitcoin"\n')

    err = load_error({"HUDDLE_DATA": str(tmp_path)})

    assert err.code == "bad_config"
    assert "netwrok" in err.message


def test_the_file_cannot_move_the_data_dir_it_lives_in(tmp_path):
    write_toml(tmp_path, f'data_dir = "{tmp_path / "elsewhere"}"\n')

    assert load_error({"HUDDLE_DATA": str(tmp_path)}).code == "bad_config"


def test_malformed_toml_is_refused(tmp_path):
    write_toml(tmp_path, 'network = "testnet\n[[[\n')

    assert load_error({"HUDDLE_DATA": str(tmp_path)}).code == "bad_config"


def test_a_non_string_value_in_the_file_is_refused(tmp_path):
    write_toml(tmp_path, "network = 1\n")

    assert load_error({"HUDDLE_DATA": str(tmp_path)}).code == "bad_config"


def test_a_non_utf8_config_file_is_refused(tmp_path):
    (tmp_path / config.CONFIG_FILE).write_bytes(b'network = "test\xffnet"\n')

    assert load_error({"HUDDLE_DATA": str(tmp_path)}).code == "bad_config"


# -- the data directory and the secret key ---------------------------------------------


def test_the_data_dir_is_created_private(tmp_path):
    data_dir = tmp_path / "nested" / "huddle"

    config.load({"HUDDLE_DATA": str(data_dir)})

    assert data_dir.is_dir()
    assert mode(data_dir) == 0o700


def test_the_secret_key_is_generated_once_with_mode_0600(tmp_path):
    env = {"HUDDLE_DATA": str(tmp_path)}

    first = config.load(env).secret_key
    secret_file = tmp_path / config.SECRET_FILE

    assert mode(secret_file) == 0o600
    assert secret_file.read_text(encoding="ascii").strip() == first
    assert len(first) >= 32
    assert config.load(env).secret_key == first
    assert config.load(env).secret_key == first


def test_each_data_dir_gets_its_own_secret_key(tmp_path):
    a = config.load({"HUDDLE_DATA": str(tmp_path / "a")}).secret_key
    b = config.load({"HUDDLE_DATA": str(tmp_path / "b")}).secret_key

    assert a != b


def test_a_loosened_secret_key_file_is_tightened_again(tmp_path):
    env = {"HUDDLE_DATA": str(tmp_path)}
    secret = config.load(env).secret_key
    secret_file = tmp_path / config.SECRET_FILE
    secret_file.chmod(0o644)

    assert config.load(env).secret_key == secret
    assert mode(secret_file) == 0o600


def test_a_secret_key_file_that_is_not_text_is_bad_config_not_a_crash(tmp_path):
    (tmp_path / config.SECRET_FILE).write_bytes(b"\xff\xfe" * 32)
    (tmp_path / config.SECRET_FILE).chmod(0o600)

    assert load_error({"HUDDLE_DATA": str(tmp_path)}).code == "bad_config"


def test_a_data_dir_path_that_is_a_file_is_a_storage_error(tmp_path):
    a_file = tmp_path / "not-a-dir"
    a_file.write_text("x", encoding="utf-8")

    with pytest.raises(StorageError) as caught:
        config.load({"HUDDLE_DATA": str(a_file)})

    assert caught.value.code == "database_error"


_CONCURRENT_LOADER = """
import json, os, sys, time
from coordinator import config
base, go, slots, slot = sys.argv[1], float(sys.argv[2]), int(sys.argv[3]), float(sys.argv[4])
out = []
for i in range(slots):
    start = go + i * slot
    time.sleep(max(0.0, start - time.time() - 0.003))
    while time.time() < start:
        pass
    try:
        out.append(config.load({"HUDDLE_DATA": os.path.join(base, str(i))}).secret_key)
    except Exception as err:
        out.append(f"ERROR {type(err).__name__} {getattr(err, 'code', '')}: {err}")
print(json.dumps(out))
"""


def test_processes_starting_together_on_a_fresh_data_dir_share_one_secret_key(tmp_path):
    """A server and a CLI started at the same moment must not fail, nor
    disagree on the key: each of many fresh data dirs is loaded by several
    processes at the same instant (wall-clock slots act as the barrier)."""
    processes, slots, slot = 4, 25, 0.02
    go = time.time() + 1.0
    workers = [
        subprocess.Popen(
            [sys.executable, "-c", _CONCURRENT_LOADER, str(tmp_path), repr(go), str(slots), str(slot)],
            cwd=REPO_ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        )
        for _ in range(processes)
    ]
    results = []
    for worker in workers:
        out, err = worker.communicate(timeout=30)
        assert worker.returncode == 0, err
        results.append(json.loads(out))

    failures = [r for per_process in results for r in per_process if r.startswith("ERROR")]
    assert failures == [], f"{len(failures)} of {processes * slots} loads failed, e.g. {failures[0]}"
    for i in range(slots):
        on_disk = (tmp_path / str(i) / config.SECRET_FILE).read_text(encoding="ascii").strip()
        assert {per_process[i] for per_process in results} == {on_disk}
