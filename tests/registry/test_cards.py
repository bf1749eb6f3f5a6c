"""Model cards: services, completeness, sanitised Markdown, Hugging Face README import/export."""

import re
from html.parser import HTMLParser
from pathlib import Path

import pytest

from registry.cards.fields import card_fields_clean, empty_card_fields
from registry.cards.huggingface import (
    FRONT_MATTER_MAX_BYTES,
    README_MAX_BYTES,
    card_from_huggingface_readme,
    card_to_huggingface_readme,
    huggingface_readme_from_fields,
)
from registry.cards.markdown import render_markdown
from registry.cards.models import ModelCard
from registry.cards.selectors import card_completeness, version_card_completeness
from registry.cards.services import card_import_huggingface, card_update
from registry.kernel.audit.models import AuditEvent
from registry.kernel.errors import Conflict, InvalidInput, NotFound, PayloadTooLarge, PermissionDenied
from registry.versions.models import AssetVersion, VersionStatus
from tests.factories import make_asset, make_version, onnx_bytes

HF_CARDS = Path(__file__).with_name("hf_cards")
FULL = "A paragraph long enough to count as filled in."


def _nested(depth: int) -> list:
    value: list = []
    for _ in range(depth):
        value = [value]
    return value


@pytest.fixture
def version(alice, team, tmp_path):
    return make_version(alice, make_asset(alice, team, slug="iris", kind="model"), tmp_path, onnx_bytes())


# --- completeness ---------------------------------------------------------------------------------


def test_completeness_counts_sections_body_and_licence_with_a_minimum_length():
    assert card_completeness(None, "model") == 0
    card = ModelCard(sections={}, body="", license="")
    assert card_completeness(card, "model") == 0
    card.license = "mit"
    assert card_completeness(card, "model") == 100 // 11
    card.sections = {"intended_use": "TBD", "training_data": "  [More Information   Needed]"}  # 3 and 22 chars
    card.body = FULL
    assert card_completeness(card, "model") == 3 * 100 // 11
    card.sections = dict.fromkeys(
        (
            "model_details",
            "intended_use",
            "factors",
            "metrics",
            "evaluation_data",
            "training_data",
            "quantitative_analyses",
            "ethical_considerations",
            "caveats_and_recommendations",
        ),
        FULL,
    )
    assert card_completeness(card, "model") == 100
    # A dataset counts its datasheet sections, none of which a model card has.
    assert card_completeness(card, "dataset") == 2 * 100 // 9
    card.sections = {"motivation": FULL, "composition": FULL}
    assert card_completeness(card, "dataset") == 4 * 100 // 9


def test_version_card_completeness_is_zero_without_a_card_and_follows_updates(alice, version):
    assert version_card_completeness(version=version) == 0
    card_update(
        user=alice, version=version, fields={"license": "mit", "body": FULL, "sections": {"intended_use": FULL}}
    )
    assert version_card_completeness(version=version) == 3 * 100 // 11


# --- services -------------------------------------------------------------------------------------


def test_teammate_updates_the_card_with_an_audit_event(bob, version):
    card = card_update(
        user=bob,
        version=version,
        fields={"license": "apache-2.0", "tags": "vision", "sections": {"intended_use": "\n\n" + FULL + "  \n"}},
    )
    assert card.sections == {"intended_use": FULL} and card.tags == ["vision"] and card.updated_by == bob
    event = AuditEvent.objects.get(action="card.updated")
    assert event.actor == bob and event.target_id == str(card.pk)
    assert event.data["completeness_before"] == 0 and event.data["completeness_after"] == 2 * 100 // 11
    # A PUT replaces: what is left out becomes empty, and the audit shows the drop.
    card = card_update(user=bob, version=version, fields={"body": FULL})
    assert card.sections == {} and card.license == "" and card.tags == []
    assert ModelCard.objects.count() == 1
    assert AuditEvent.objects.filter(action="card.updated").first().data["completeness_before"] == 2 * 100 // 11


def test_outsiders_cannot_update(charlie, alice, team, tmp_path, version):
    with pytest.raises(PermissionDenied):
        card_update(user=charlie, version=version, fields={"body": FULL})
    private = make_version(alice, make_asset(alice, team, slug="secret", visibility="private"), tmp_path, onnx_bytes())
    with pytest.raises(NotFound):
        card_update(user=charlie, version=private, fields={"body": FULL})
    with pytest.raises(NotFound):
        card_import_huggingface(user=charlie, version=private, text="# x")
    assert not ModelCard.objects.exists() and not AuditEvent.objects.filter(action="card.updated").exists()


@pytest.mark.parametrize("status", [VersionStatus.APPROVED, VersionStatus.DEPRECATED])
def test_cards_of_approved_and_deprecated_versions_are_frozen(alice, version, status):
    card_update(user=alice, version=version, fields={"body": FULL})
    AssetVersion.objects.filter(pk=version.pk).update(status=status)
    # The stale in-memory status does not matter: the service reads the locked row.
    with pytest.raises(Conflict, match="cannot change; upload a new version"):
        card_update(user=alice, version=version, fields={"body": "changed " + FULL})
    with pytest.raises(Conflict):
        card_import_huggingface(user=alice, version=version, text="# changed")
    assert ModelCard.objects.get().body == FULL


@pytest.mark.parametrize(
    "fields, message",
    [
        ({"sections": {"intended_use": "x" * (64 * 1024 + 1)}}, "over the limit"),
        ({"body": "x" * (256 * 1024 + 1)}, "over the limit"),
        ({"sections": {"motivation": FULL}}, "not a section of a model card"),
        ({"sections": {"intended_use": "## Sub\n\ntext"}}, "level 3"),
        ({"sections": {"intended_use": 3}}, "Markdown text"),
        ({"body": "intro\n\n## Training data\n\nrows"}, "sections.training_data"),
        ({"body": "a\x00b"}, "NUL"),
        ({"tags": ["ok", 7]}, "list of strings"),
        ({"tags": ["t"] * 101}, "at most 100"),
        ({"license": "x" * 101}, "at most 100"),
        ({"model_index": {"name": "x"}}, "must be a list"),
        ({"extra": {"deep": _nested(40)}}, "nested"),
        ({"extra": {"tags": ["a"]}}, "set tags instead"),
        ({"colour": "red"}, "Unknown card field"),
    ],
)
def test_invalid_fields_are_refused_with_the_field_named(alice, version, fields, message):
    with pytest.raises(InvalidInput, match=message):
        card_update(user=alice, version=version, fields=fields)
    assert not ModelCard.objects.exists()


def test_import_service_replaces_the_card_and_exports_it_again(bob, version):
    text = (HF_CARDS / "sentiment_model.md").read_text()
    card = card_import_huggingface(user=bob, version=version, text=text)
    assert card.license == "apache-2.0" and card.model_index[0]["name"] == "distilbert-sst2-sentiment"
    event = AuditEvent.objects.get(action="card.updated")
    assert event.data["source"] == "huggingface_readme" and event.data["completeness_after"] > 0
    card = ModelCard.objects.select_related("version__asset").get()
    assert card_from_huggingface_readme(card_to_huggingface_readme(card)) == card.as_fields()


# --- sanitised Markdown ---------------------------------------------------------------------------

HOSTILE = [
    "<script>alert(1)</script>",
    "<SCRIPT SRC=//evil.example/x.js></SCRIPT>",
    "<img src=x onerror=alert(1)>",
    '<img src="javascript:alert(1)">',
    "[x](javascript:alert(1))",
    "[x](JaVaScRiPt:alert(1))",
    '<a href="JaVaScRiPt:alert(1)">x</a>',
    '<a href="&#106;&#97;vascript:alert(1)">x</a>',
    '<a href="&#x6A;avascript&#x3A;alert(1)">x</a>',
    '<a href="java\tscript:alert(1)">x</a>',
    '<a href=" javascript:alert(1)">x</a>',
    "[x](vbscript:msgbox(1))",
    "[x](data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==)",
    "![x](data:image/svg+xml;base64,PHN2ZyBvbmxvYWQ9YWxlcnQoMSk+)",
    "<svg onload=alert(1)><script>alert(1)</script></svg>",
    '<svg><a xlink:href="javascript:alert(1)"><text>x</text></a></svg>',
    "<math><mtext><table><mglyph><style><img src=x onerror=alert(1)></style></mglyph></table></mtext></math>",
    '<math href="javascript:alert(1)">x</math>',
    "<iframe src=https://evil.example></iframe>",
    "<object data=x.swf></object><embed src=x.swf>",
    '<div style="background:url(javascript:alert(1))" onclick="alert(1)">x</div>',
    "<style>body{display:none}</style>",
    '<form action="javascript:alert(1)"><button formaction="javascript:alert(1)">x</button></form>',
    "<details open ontoggle=alert(1)>x</details>",
    '<a href="https://ok.example" onmouseover="alert(1)">x</a>',
    "<!--><script>alert(1)</script>-->",
    '<noscript><p title="</noscript><img src=x onerror=alert(1)>">',
    '<meta http-equiv="refresh" content="0;url=javascript:alert(1)">',
    '<base href="javascript:alert(1)//">',
]


class _Elements(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, list[tuple[str, str | None]]]] = []

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, attrs))


SAFE_TAGS = {
    "p",
    "a",
    "img",
    "table",
    "thead",
    "tbody",
    "tr",
    "th",
    "td",
    "div",
    "details",
    "code",
    "pre",
    "em",
    "strong",
    "span",
    "br",
}


@pytest.mark.parametrize("markdown", HOSTILE)
def test_nothing_executable_survives_rendering(markdown):
    html = render_markdown(f"Intro\n\n{markdown}\n\n| a | b |\n|---|---|\n| {markdown.replace('|', '')} | x |")
    parser = _Elements()
    parser.feed(html)
    parser.close()
    assert parser.tags, html
    for tag, attrs in parser.tags:
        assert tag in SAFE_TAGS, html
        for name, value in attrs:
            assert not name.startswith("on") and name not in {"formaction", "action", "xlink:href"}, html
            if name == "style":
                assert re.fullmatch(r"text-align:\w+", value), html
            if name in {"href", "src"}:
                # Any scheme left is a safe one; relative URLs have none.
                scheme = re.match(r"^\s*([a-zA-Z][a-zA-Z0-9+.-]*):", value or "")
                assert scheme is None or scheme.group(1).lower() in {"http", "https", "mailto"}, html
            if name == "rel":
                assert value == "nofollow noopener"
    for gone in ("<script", "<style", "<iframe", "<svg", "<math", "alert(1)</script"):
        assert gone not in html.lower(), html


def test_rendering_keeps_ordinary_markdown_and_marks_links():
    html = render_markdown(
        "# Title\n\n**bold** `code` [site](https://example.org)\n\n| a | b |\n|:--|--:|\n| 1 | 2 |\n\n"
        "<details><summary>More</summary>hidden</details>\n\n![img](https://example.org/i.png)"
    )
    assert "<h1>Title</h1>" in html and "<strong>bold</strong>" in html and "<code>code</code>" in html
    assert '<a href="https://example.org" rel="nofollow noopener">site</a>' in html
    assert '<td style="text-align:right">2</td>' in html and "<details><summary>More</summary>" in html
    assert '<img src="https://example.org/i.png" alt="img">' in html


# --- Hugging Face README import/export ------------------------------------------------------------


def test_model_readme_maps_front_matter_and_sections():
    fields = card_from_huggingface_readme((HF_CARDS / "sentiment_model.md").read_text(), kind="model")
    assert fields["license"] == "apache-2.0" and fields["library_name"] == "transformers"
    assert fields["pipeline_tag"] == "text-classification"
    assert fields["base_model"] == ["distilbert/distilbert-base-uncased"]
    assert fields["tags"] == ["generated_from_trainer", "sentiment-analysis"]
    assert fields["datasets"] == ["stanfordnlp/sst2"] and fields["metrics"] == ["accuracy", "f1"]
    result = fields["model_index"][0]["results"][0]
    assert result["metrics"][0] == {"type": "accuracy", "value": 0.9106, "name": "Accuracy", "verified": False}
    assert set(fields["extra"]) == {"language", "widget", "co2_eq_emissions"}
    assert list(fields["sections"]) == [
        "model_details",
        "intended_use",
        "training_data",
        "quantitative_analyses",
        "caveats_and_recommendations",
    ]
    assert (
        fields["sections"]["intended_use"].startswith("Classifying")
        and "### Out-of-scope use" in fields["sections"]["intended_use"]
    )
    # Unknown headings, the title and the text before it stay in the body, in order; a heading
    # inside a code block is not a section.
    assert fields["body"].startswith("<!-- This model card") and "# distilbert-sst2-sentiment" in fields["body"]
    assert "## Training procedure" in fields["body"] and "## Training and evaluation data" in fields["body"]
    assert "## Training data\nfrom transformers" in fields["sections"]["caveats_and_recommendations"]


def test_dataset_readme_maps_datasheet_sections():
    fields = card_from_huggingface_readme((HF_CARDS / "reviews_dataset.md").read_text(), kind="dataset")
    assert fields["license"] == "cc-by-sa-4.0" and fields["tags"] == ["reviews", "sentiment"]
    assert list(fields["sections"]) == [
        "motivation",
        "composition",
        "collection_process",
        "preprocessing",
        "uses",
        "distribution",
        "maintenance",
    ]
    assert fields["extra"]["dataset_info"]["splits"][0]["num_examples"] == 40000
    assert fields["extra"]["last_updated"] == "2024-03-18"  # a YAML date, kept as text
    assert fields["extra"]["dataset_info"]["features"][1]["dtype"]["class_label"]["names"] == {
        "0": "negative",
        "1": "positive",
    }
    assert "## Dataset Description" in fields["body"] and "## Citation Information" in fields["body"]
    # The same README read as a model card keeps the datasheet headings in the body ("Uses" names
    # the model card's intended use).
    as_model = card_from_huggingface_readme((HF_CARDS / "reviews_dataset.md").read_text(), kind="model")
    assert list(as_model["sections"]) == ["intended_use"] and "## Motivation" in as_model["body"]


@pytest.mark.parametrize(
    "name, kind",
    [("sentiment_model.md", "model"), ("reviews_dataset.md", "dataset"), ("sentiment_model.md", "solution")],
)
def test_round_trip_is_lossless(name, kind):
    fields = card_from_huggingface_readme((HF_CARDS / name).read_text(), kind=kind)
    exported = huggingface_readme_from_fields(fields, kind=kind)
    assert exported.startswith("---\n") and "\n## " in exported
    assert card_from_huggingface_readme(exported, kind=kind) == fields
    assert huggingface_readme_from_fields(card_from_huggingface_readme(exported, kind=kind), kind=kind) == exported


@pytest.mark.parametrize(
    "fields",
    [
        {"body": "---\nnot: front matter\n---\n\ntext", "sections": {"factors": "```py\n## not a heading"}},
        {"body": "Intro\n\n## Other\n\n<!-- open comment", "sections": {"metrics": "a\n\n```\ncode"}},
        {
            "base_model": ["a/b", "c/d"],
            "extra": {"license": ["mit", "apache-2.0"], "on": "yes", "n": 1.5, "when": "2024-01-01", "empty": None},
        },
        {},
    ],
)
def test_round_trip_of_awkward_fields(fields):
    cleaned = card_fields_clean(fields, kind="model")
    exported = huggingface_readme_from_fields(cleaned, kind="model")
    assert card_from_huggingface_readme(exported, kind="model") == cleaned


def test_repeated_and_variant_headings():
    text = "## Intended Uses & Limitations:\n\nfirst\n\nTraining Data\n---\n\nrows\n\n## intended use\n\nsecond\n"
    fields = card_from_huggingface_readme(text)
    assert fields["sections"] == {"intended_use": "first\n\nsecond", "training_data": "rows"}
    assert fields["body"] == "" and fields["extra"] == {}
    assert card_from_huggingface_readme("no front matter") == {**empty_card_fields(), "body": "no front matter"}


@pytest.mark.parametrize(
    "text, error, message",
    [
        ("---\na: &x [1, 2]\nb: *x\n---\n", InvalidInput, "alias"),
        (
            "---\n"
            + "a: &a [x,x,x,x,x,x,x,x,x]\nb: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]\nc: [*b,*b,*b,*b,*b,*b,*b,*b,*b]\n"
            + "---\n",
            InvalidInput,
            "alias",
        ),
        ("---\nx: " + "[" * 40 + "]" * 40 + "\n---\n", InvalidInput, "nested"),
        ("---\nx: [" + ",".join(["1"] * 20_001) + "]\n---\n", InvalidInput, "more than"),
        ("---\nx: " + "y" * FRONT_MATTER_MAX_BYTES + "\n---\n", InvalidInput, "front matter is"),
        ("x" * (README_MAX_BYTES + 1), PayloadTooLarge, "over the limit"),
        ("---\nlicense: mit\n", InvalidInput, "no closing"),
        ("---\n- a\n- b\n---\n", InvalidInput, "mapping"),
        ("---\na: [1\n---\n", InvalidInput, "not valid YAML"),
        ("---\na: !!python/object/apply:os.system ['echo pwned']\n---\n", InvalidInput, "not valid YAML"),
        ("---\na: !!binary aGVsbG8=\n---\n", InvalidInput, "bytes"),
        ("---\na: !!set {x}\n---\n", InvalidInput, "set"),
        ("---\na: .nan\n---\n", InvalidInput, "NaN"),
        ("---\n[a]: b\n---\n", InvalidInput, "key"),
        ("# t\n\nNUL \x00 here", InvalidInput, "NUL"),
    ],
)
def test_hostile_readmes_are_refused(text, error, message):
    with pytest.raises(error, match=message):
        card_from_huggingface_readme(text)
