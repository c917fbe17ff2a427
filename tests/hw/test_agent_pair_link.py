"""``huddle agent pair`` with the pairing link and its QR code, through the real
``huddle`` script against a real ``huddle serve`` (docs/agent.md, "The pairing
link"): the link pairs in one paste, a photo of its QR code pairs too, a server
named only by the link is confirmed at the terminal, one that differs from the
URL typed is refused before anything is sent, and a bad image is one clear line.

One server for the module: each test makes its own codes and has its own agent. The
server allows 10 sign-in and pairing calls a minute from one address, so a refusal is
shown to have sent nothing by the code staying unused, not by redeeming it."""

from __future__ import annotations

import io
import json
import stat
import subprocess

import httpx
import pytest
import segno
from PIL import Image

from coordinator.hw.pair_uri import PairUri

from ..cli.runner import Huddle, fails, huddle, ok  # noqa: F401  (huddle is a fixture)
from ..sessions.ceremony_env import start_sandbox
from ..sessions.live import serve


@pytest.fixture(scope="module")
def live(huddle, tmp_path_factory):  # noqa: F811
    """`huddle serve` and Ada, its admin, signed in with a passkey."""
    chain = start_sandbox()
    running = serve(huddle, tmp_path_factory.mktemp("server") / "data", chain.url)
    try:
        yield running, running.browser().register("/setup", token=running.setup_token, name="Ada")
    finally:
        running.stop()
        chain.stop()


@pytest.fixture
def agent(huddle, tmp_path):  # noqa: F811
    def call(*args, input="", where="agent", env=None):
        return Huddle(huddle, tmp_path / "data")(*map(str, args), input=input,
                                                 env={"HUDDLE_AGENT_DIR": str(tmp_path / where), **(env or {})})
    call.dir = tmp_path / "agent"
    return call


def _link(live) -> str:
    server, ada = live
    made = ada.post("/agent/pairings")
    assert made.status_code == 201, made.get_json()
    return PairUri(made.get_json()["code"], server.base).to_string()


def _unused(live) -> bool:
    """Whether the newest code Ada made is still unspent, as the server says."""
    return not any(p["used"] for p in live[1].get("/agent/pairings").get_json()["pairings"][:1])


def _qr_png(text: str, path, photo: bool = False):
    """The link's QR code as segno draws it; ``photo``: turned, small, in a grey JPEG."""
    out = io.BytesIO()
    segno.make_qr(text, error="m").save(out, kind="png", scale=6, border=4)
    if not photo:
        path.write_bytes(out.getvalue())
        return path
    symbol = Image.open(io.BytesIO(out.getvalue())).convert("L").rotate(17, expand=True, fillcolor=255)
    canvas = Image.new("L", (1600, 1200), 200)
    canvas.paste(symbol, (700, 400))
    canvas.save(path, format="JPEG", quality=70)
    return path


def _paired_privately(agent, live) -> dict:
    server, _ = live
    kept = agent.dir / "server.json"
    assert stat.S_IMODE(kept.stat().st_mode) == 0o600 and stat.S_IMODE(agent.dir.stat().st_mode) == 0o700
    link = json.loads(kept.read_text())
    reads = httpx.get(f"{server.base}/api/v1/wallets", headers={"Authorization": f"Bearer {link['token']}"},
                      timeout=10)
    assert link["url"] == server.base and link["user"]["name"] == "Ada" and reads.status_code == 200
    return link


def test_the_link_alone_pairs_in_one_paste_after_the_host_is_confirmed(live, agent):
    result = agent("agent", "pair", _link(live), input="y\n")

    out = ok(result)
    assert "the Huddle server at 127.0.0.1 (http://127.0.0.1:" in result.stderr and "Pair with 127.0.0.1?" in result.stderr
    assert f"Paired with {live[0].base} as Ada" in out and "registered with the server" in out
    assert _paired_privately(agent, live)["token"] not in out + result.stderr


def test_with_yes_the_link_pairs_without_asking(live, agent):
    result = agent("agent", "pair", _link(live), "--yes")

    assert "as Ada" in ok(result) and "Pair with" not in result.stderr
    _paired_privately(agent, live)


def test_a_link_pasted_at_the_prompt_after_the_typed_url_needs_no_confirmation(live, agent):
    result = agent("agent", "pair", live[0].base, input=_link(live) + "\n")

    assert "as Ada" in ok(result) and "Pair with" not in result.stderr
    _paired_privately(agent, live)


def test_declining_the_host_sends_nothing_and_the_code_still_works(live, agent):
    link = _link(live)

    for answer in ("n\n", ""):
        result = agent("agent", "pair", link, input=answer)
        assert result.returncode == 5 and "Traceback" not in result.stderr
        assert result.stderr.rstrip().splitlines()[-1].endswith("[pairing_declined]")
        assert not (agent.dir / "server.json").exists()

    assert _unused(live)


def test_a_link_for_another_server_than_the_typed_url_is_refused_before_anything_is_sent(live, agent):
    server, _ = live
    link = _link(live)
    elsewhere = link.replace("127.0.0.1", "localhost")

    line = fails(agent("agent", "pair", server.base, "--code", elsewhere), 3, "pair_server_mismatch")
    assert "http://localhost:" in line and not agent.dir.exists()
    fails(agent("agent", "pair", server.base, input=elsewhere + "\n"), 3, "pair_server_mismatch")
    fails(agent("agent", "pair", "https://huddle.example", "--code", link), 3, "pair_server_mismatch")

    assert _unused(live)


def test_a_link_to_a_plain_http_server_elsewhere_is_refused(agent):
    link = PairUri("7K2QD-MX9PA-T4VWB-0RHNE", "http://huddle.example").to_string()

    line = fails(agent("agent", "pair", link, "--yes"), 3, "insecure_server_url")

    assert "https://" in line and not agent.dir.exists()


def test_a_screenshot_of_the_qr_code_pairs(live, agent, tmp_path):
    image = _qr_png(_link(live), tmp_path / "pairing.png")

    assert "as Ada" in ok(agent("agent", "pair", "--qr", image, "--yes"))
    _paired_privately(agent, live)


def test_a_photo_of_the_qr_code_pairs_with_the_typed_url(live, agent, tmp_path):
    image = _qr_png(_link(live), tmp_path / "photo.jpg", photo=True)

    result = agent("agent", "pair", live[0].base, "--qr", image)

    assert "as Ada" in ok(result) and "Pair with" not in result.stderr
    _paired_privately(agent, live)


def _blank_png(path):
    Image.new("L", (400, 300), 255).save(path, format="PNG")
    return path


@pytest.mark.parametrize("make, code", [
    (lambda p: p.with_suffix(".png").write_bytes(b"\x89PNG\r\n\x1a\n not really") or p.with_suffix(".png"),
     "pair_image_unreadable"),
    (lambda p: p.with_suffix(".txt").write_text("huddle-pair: not an image") or p.with_suffix(".txt"),
     "pair_image_unreadable"),
    (lambda p: p / "missing.png", "pair_image_unreadable"),
    (lambda p: _blank_png(p / "blank.png"), "pair_qr_not_found"),
    (lambda p: _qr_png("bitcoin:bcrt1qexample?amount=1", p / "other.png"), "bad_pair_uri"),
])
def test_a_bad_image_is_one_line_and_a_non_zero_exit(agent, tmp_path, make, code):
    line = fails(agent("agent", "pair", "--qr", make(tmp_path), "--yes"), 3, code)

    assert not agent.dir.exists(), line


def test_a_qr_code_from_another_site_is_not_mistaken_for_a_link(agent, tmp_path):
    image = _qr_png("bitcoin:bcrt1qexample?amount=1", tmp_path / "other.png")

    line = fails(agent("agent", "pair", "--qr", image, "--yes"), 3, "bad_pair_uri")

    assert "'bitcoin:bcrt1qexample?amount=1'" in line


def test_without_the_qr_reader_installed_it_says_so_in_one_line(agent, tmp_path):
    shadow = tmp_path / "no-zxing" / "zxingcpp"
    shadow.mkdir(parents=True)  # earlier on sys.path than site-packages: as if zxing-cpp were not installed
    (shadow / "__init__.py").write_text("raise ModuleNotFoundError('No module named zxingcpp', name='zxingcpp')\n")
    image = _qr_png("anything", tmp_path / "pairing.png")

    line = fails(agent("agent", "pair", "--qr", image, env={"PYTHONPATH": str(shadow.parent)}), 7,
                 "pair_qr_reader_missing")

    assert "zxingcpp" in line and "huddle-pair:" in line


def test_the_code_is_given_one_way_only(agent, tmp_path):
    link = PairUri("7K2QD-MX9PA-T4VWB-0RHNE", "https://huddle.example").to_string()

    fails(agent("agent", "pair", link, "--code", "7K2QD-MX9PA-T4VWB-0RHNE"), 3, "usage")
    fails(agent("agent", "pair", "--qr", tmp_path / "x.png", "--code", "7K2QD"), 3, "usage")


def test_a_bare_code_without_the_url_says_to_give_the_url_or_the_link(agent):
    line = fails(agent("agent", "pair", input="7K2QD-MX9PA-T4VWB-0RHNE\n"), 3, "pair_url_missing")

    assert "huddle-pair:" in line


def test_the_help_names_the_link_and_the_qr_option(huddle, tmp_path):  # noqa: F811
    out = subprocess.run([str(huddle), "agent", "pair", "--help"], capture_output=True, text=True, timeout=60).stdout

    assert "huddle-pair:" in out and "--qr IMAGE" in out and "--yes" in out
