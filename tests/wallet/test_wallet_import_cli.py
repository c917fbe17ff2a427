"""``huddle wallet import --origin`` and the birth height, through the real console script."""

from __future__ import annotations

import json

from tests.cli.runner import fails, huddle, ok, run  # noqa: F401  (pytest fixtures)
from tests.conftest import VECTORS

CORPUS = VECTORS / "wallet_exports" / "corpus"
TEXT_KEY = CORPUS / "built-caravan-download-text-key.json"  # key 2 typed into Caravan as text
ORIGIN = "f57ec65d:m/48'/0'/100'/2'"


def test_import_of_a_caravan_text_key_needs_its_origin(run):
    run.network = "bitcoin"
    line = fails(run("wallet", "import", str(TEXT_KEY)), 3, "missing_origin")
    assert "--origin" in line


def test_import_with_origin_completes_the_key_and_shows_the_birth_height(run):
    run.network = "bitcoin"
    data = json.loads(ok(run("wallet", "import", str(TEXT_KEY), "--origin", ORIGIN, "--json")))
    assert [c["fingerprint"] for c in data["cosigners"]][1] == "f57ec65d"
    assert data["birth_height"] is None
    out = ok(run("wallet", "import", str(CORPUS / "built-sparrow-output-descriptor.txt"), "--name", "born"))
    assert "Birth height (from the file): 850000" in out
    assert "850000" in ok(run("wallet", "show", "born"))


def test_origin_for_a_file_whose_keys_have_theirs_is_refused(run):
    run.network = "bitcoin"
    fails(run("wallet", "import", str(CORPUS / "sparrow-bsms-multisig-2.bsms"), "--name", "x",
              "--origin", ORIGIN), 3, "origin_not_needed")
