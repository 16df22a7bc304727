"""The OpenAPI document, /docs and docs/rest.md agree with the routes and the error table."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from lob.client.rest import RestClient
from lob.server.errors import DESCRIPTIONS, STATUS
from lob.server.openapi import openapi_document, rest_markdown
from lob.server.rest import ROUTES
from tests.server.support import run, running

DOCS = Path(__file__).resolve().parents[2] / "docs" / "rest.md"


def _refs(node: Any) -> list[str]:
    if isinstance(node, dict):
        out = [node["$ref"]] if "$ref" in node else []
        for value in node.values():
            out += _refs(value)
        return out
    if isinstance(node, list):
        return [r for item in node for r in _refs(item)]
    return []


def test_openapi_documents_every_route_and_nothing_else() -> None:
    doc = openapi_document()
    documented = {(m.upper(), p) for p, item in doc["paths"].items() for m in item}
    assert documented == {(method, path) for method, path, _ in ROUTES}
    assert doc["openapi"] == "3.1.0"


def test_openapi_refs_resolve_and_error_codes_are_the_servers() -> None:
    doc = openapi_document()
    schemas = doc["components"]["schemas"]
    for ref in _refs(doc):
        assert ref.startswith("#/components/schemas/") and ref.split("/")[-1] in schemas
    assert set(doc["x-error-codes"]) == set(STATUS) == set(DESCRIPTIONS)
    assert schemas["Error"]["properties"]["error"]["properties"]["code"]["enum"] == sorted(STATUS)
    for item in doc["paths"].values():
        for op in item.values():
            for status in op["responses"]:
                assert status.isdigit()
            if op["security"]:
                assert "401" in op["responses"]


def test_docs_rest_md_is_generated_from_the_openapi_document() -> None:
    assert DOCS.read_text(encoding="utf-8") == rest_markdown(openapi_document())


def test_openapi_json_and_html_docs_are_served_self_contained(tmp_path: Path) -> None:
    async def body() -> None:
        async with running(tmp_path) as server, RestClient(server.url) as client:
            served = await client.call("GET", "/openapi.json")
            assert served == json.loads(json.dumps(openapi_document()))
            page = await client.call("GET", "/docs")
            assert page.startswith("<!doctype html>")
            assert "<script" not in page and "https://" not in page and "http://cdn" not in page
            for _, path, _ in ROUTES:
                assert path in page

    run(body)
