"""The pairing link, ``huddle-pair:CODE?server=URL`` (docs/agent.md, "The pairing link"):
what the web UI makes reads back exactly, its server is checked like a URL typed
at ``huddle agent pair``, one that names another server than the typed URL is
refused, and anything else is a clear ``bad_pair_uri``, never a crash."""

from __future__ import annotations

import io

import pytest
import segno
from hypothesis import given
from hypothesis import strategies as st
from PIL import Image, ImageOps

from coordinator.accounts import pairing as server_pairing
from coordinator.errors import HuddleError
from coordinator.hw import pair_qr, pair_uri, pairing
from coordinator.hw.pair_uri import PairUri

CODE = "7K2QD-MX9PA-T4VWB-0RHNE"

codes = st.lists(st.sampled_from(pair_uri.ALPHABET), min_size=20, max_size=20).map(
    lambda cs: "-".join("".join(cs[i:i + 5]) for i in range(0, 20, 5)))
labels = st.from_regex(r"[a-z0-9]([a-z0-9-]{0,20}[a-z0-9])?", fullmatch=True)
hosts = st.lists(labels, min_size=1, max_size=4).map(".".join)
segments = st.lists(st.one_of(st.sampled_from("abcXYZ019-._~!$&'()*+,;=:@"),
                              st.sampled_from(["%20", "%2F", "%C3%BC", "%25"])), min_size=1, max_size=8).map("".join)
paths = st.lists(segments, max_size=3).map(lambda parts: "".join("/" + p for p in parts))
ports = st.one_of(st.just(""), st.integers(1, 65535).map(lambda p: f":{p}"))
public = st.builds(lambda host, port, path: f"https://{host}{port}{path}", hosts, ports, paths)
loopback = st.builds(lambda host, port, path: f"http://{host}{port}{path}",
                     st.sampled_from(["localhost", "127.0.0.1", "127.8.9.1", "[::1]"]), ports, paths)


@given(codes, st.one_of(public, loopback))
def test_a_link_reads_back_as_the_code_and_server_it_was_made_from(code, url):
    made = PairUri(code, pairing.check_url(url))

    assert PairUri.from_string(made.to_string()) == made


@given(codes, public)
def test_case_and_dashes_of_the_code_and_a_fully_escaped_server_read_the_same(code, url):
    from urllib.parse import quote

    text = f"HUDDLE-PAIR:{code.replace('-', '').lower()}?server={quote(url, safe='')}"

    assert PairUri.from_string(text) == PairUri(code, pairing.check_url(url))


def test_the_agent_reads_the_codes_the_server_makes():
    assert (pair_uri.ALPHABET, pair_uri.LENGTH) == (server_pairing.ALPHABET, server_pairing.LENGTH)


@given(st.text(max_size=200))
def test_any_text_is_a_link_or_a_clear_refusal(text):
    try:
        PairUri.from_string(text)
    except HuddleError as err:
        assert err.code in ("bad_pair_uri", "insecure_server_url", "bad_server_url")


@given(st.text(alphabet=st.characters(min_codepoint=0x21, max_codepoint=0x7E), max_size=120))
def test_any_server_text_in_a_link_is_a_server_or_a_clear_refusal(server):
    try:
        found = PairUri.from_string(f"huddle-pair:{CODE}?server={server}")
    except HuddleError as err:
        assert err.code in ("bad_pair_uri", "insecure_server_url", "bad_server_url")
    else:
        assert found.server == pairing.check_url(found.server)


def _refusal(text: str) -> HuddleError:
    with pytest.raises(HuddleError) as caught:
        PairUri.from_string(text)
    return caught.value


@pytest.mark.parametrize("text", [
    f"bitcoin:{CODE}?server=https://huddle.example",
    f"huddle-pairing:{CODE}?server=https://huddle.example",
    f"https://huddle.example/pair?code={CODE}",
    f"huddle-pair//{CODE}?server=https://huddle.example",
])
def test_another_scheme_is_not_a_pairing_link(text):
    err = _refusal(text)

    assert err.code == "bad_pair_uri" and "huddle-pair:" in err.message


@pytest.mark.parametrize("server", ["http://huddle.example", "http://192.168.1.5:5000", "http%3A%2F%2Fhuddle.example",
                                    "ftp://huddle.example", "http://localhost.evil.example"])
def test_a_server_the_token_would_reach_in_the_clear_is_refused(server):
    assert _refusal(f"huddle-pair:{CODE}?server={server}").code == "insecure_server_url"


def test_a_user_name_before_the_host_is_refused_for_it_disguises_the_host():
    err = _refusal(f"huddle-pair:{CODE}?server=https://huddle.example@evil.example")

    assert err.code == "bad_server_url" and "evil.example" in err.message


@pytest.mark.parametrize("text, why", [
    ("", "does not start"),
    ("huddle-pair:", "server is missing"),
    (f"huddle-pair:{CODE}", "server is missing"),
    (f"huddle-pair:{CODE}?", "unknown parameter"),
    (f"huddle-pair:{CODE}?server=", "printable ASCII"),
    (f"huddle-pair:{CODE}?server=https://a.example&server=https://b.example", "twice"),
    (f"huddle-pair:{CODE}?server=https://huddle.example&label=x", "unknown parameter 'label'"),
    (f"huddle-pair:{CODE}?Server=https://huddle.example", "unknown parameter"),
    (f"huddle-pair:{CODE}?server=https://huddle.example#x", "'#'"),
    (f"huddle-pair:{CODE}?server=https://huddle.example%3Fx=1", "query or fragment"),
    (f"huddle-pair:{CODE}?server=https://huddle.example%23x", "query or fragment"),
    (f"huddle-pair:{CODE}?server=https://h%C3%BCddle.example", "printable ASCII"),
    (f"huddle-pair:{CODE}?server=https://huddle.example%20", "printable ASCII"),
    (f"huddle-pair:{CODE}?server=https://huddle.example/%zz", "two hex digits"),
    (f"huddle-pair:{CODE} ?server=https://huddle.example", "without spaces"),
    (f"huddle-pair:{CODE}?server=https://hüddle.example", "printable ASCII"),
    (f"huddle-pair:{CODE}?server=https://huddle.example/" + "a" * 1024, "at most 1024"),
    ("huddle-pair:7K2QD-MX9PA-T4VWB?server=https://huddle.example", "not 20 characters"),
    ("huddle-pair:7K2QD-MX9PA-T4VWB-0RHNE-3JC8S?server=https://huddle.example", "not 20 characters"),
    ("huddle-pair:7K2QD-MX9PA-T4VWB-0RHNU?server=https://huddle.example", "without I, L, O, U"),
    ("huddle-pair:7K2QD-MX9PA-T4VWB-0RHN%45?server=https://huddle.example", "not 20 characters"),
])
def test_junk_is_refused_saying_what_is_wrong(text, why):
    err = _refusal(text)

    assert err.code == "bad_pair_uri" and why in err.message, err.message


def test_spaces_around_a_pasted_link_do_not_matter():
    assert PairUri.from_string(f"  huddle-pair:{CODE}?server=https://huddle.example/\n") == \
        PairUri(CODE, "https://huddle.example")


def test_a_link_alone_names_its_server_for_the_user_to_confirm():
    found = pairing.target(None, f"huddle-pair:{CODE}?server=https://huddle.example")

    assert found == pairing.Target("https://huddle.example", CODE, confirm=True)


@pytest.mark.parametrize("typed", ["https://huddle.example", "https://HUDDLE.example:443/", "https://huddle.example."])
def test_a_link_for_the_typed_server_needs_no_confirmation(typed):
    found = pairing.target(typed, f"huddle-pair:{CODE}?server=https://huddle.example")

    assert found.code == CODE and found.url == pairing.check_url(typed) and not found.confirm


@pytest.mark.parametrize("typed", ["https://huddle.example.evil", "https://huddle.example:8443", "http://localhost",
                                   "https://huddle.example/other", "https://other.example"])
def test_a_link_for_another_server_than_the_typed_one_is_refused(typed):
    link = "huddle-pair:7K2QD-MX9PA-T4VWB-0RHNE?server=https://huddle.example"

    with pytest.raises(HuddleError) as caught:
        pairing.target(typed, link)

    assert caught.value.code == "pair_server_mismatch" and "https://huddle.example" in caught.value.message


def test_a_bare_code_without_the_server_says_to_give_it():
    with pytest.raises(HuddleError) as caught:
        pairing.target(None, CODE)

    assert caught.value.code == "pair_url_missing"


def test_a_bare_code_goes_to_the_typed_server_as_before():
    assert pairing.target("https://huddle.example/", f" {CODE} ") == \
        pairing.Target("https://huddle.example", CODE, confirm=False)


def _symbol(text: str) -> Image.Image:
    out = io.BytesIO()
    segno.make_qr(text, error="m").save(out, kind="png", scale=5, border=4)
    return Image.open(io.BytesIO(out.getvalue())).convert("L")


def test_a_dark_mode_screenshot_of_the_qr_code_reads_as_the_link(tmp_path):
    link = PairUri(CODE, "https://huddle.example").to_string()
    ImageOps.invert(_symbol(link)).save(tmp_path / "dark.png")

    assert pair_qr.read(str(tmp_path / "dark.png")) == link


def test_a_picture_with_two_different_links_is_refused_and_the_same_one_twice_is_read(tmp_path):
    links = [PairUri(CODE, f"https://{host}.example").to_string() for host in ("huddle", "evil")]
    for name, texts in (("two", links), ("same", [links[0], links[0]])):
        symbols = [_symbol(t) for t in texts]
        canvas = Image.new("L", (sum(s.width for s in symbols) + 40, max(s.height for s in symbols) + 40), 255)
        canvas.paste(symbols[0], (20, 20))
        canvas.paste(symbols[1], (20 + symbols[0].width, 20))
        canvas.save(tmp_path / f"{name}.png")

    with pytest.raises(HuddleError) as caught:
        pair_qr.read(str(tmp_path / "two.png"))
    assert caught.value.code == "bad_pair_uri" and "2 different pairing links" in caught.value.message
    assert pair_qr.read(str(tmp_path / "same.png")) == links[0]
