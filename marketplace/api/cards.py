"""Model cards and datasheets of versions: JSON fields with rendered HTML, and Hugging Face README.md."""

from django.http import HttpResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import serializers
from rest_framework.response import Response

from marketplace.api.input import RejectUnknownFieldsMixin, StrictCharField, parse_input
from marketplace.api.parsers import MarkdownParser
from marketplace.api.views import APIView
from registry.cards.fields import (
    NAME_MAX_CHARS,
    NAMES_MAX_ITEMS,
    SECTION_MAX_BYTES,
    SHORT_TEXT_MAX_CHARS,
    empty_card_fields,
)
from registry.cards.markdown import render_markdown
from registry.cards.models import ModelCard
from registry.cards.sections import DATASHEET_SECTIONS, MODEL_SECTIONS, sections_for
from registry.cards.selectors import card_completeness, card_frozen, card_get, card_readme
from registry.cards.services import card_import_huggingface, card_update
from registry.kernel.errors import InvalidInput
from registry.tokens.models import Scope
from registry.versions.models import AssetVersion
from registry.versions.selectors import visible_version_get

_SECTIONS_HELP = (
    f"Markdown per section key. Models and solutions (Mitchell et al., model cards): "
    f"{', '.join(MODEL_SECTIONS)}. Datasets (Gebru et al., datasheets): {', '.join(DATASHEET_SECTIONS)}. "
    f"At most {SECTION_MAX_BYTES // 1024} KiB each; headings inside a section are level 3 or lower."
)


def _names(help_text: str):
    return serializers.ListField(child=serializers.CharField(max_length=NAME_MAX_CHARS), help_text=help_text)


class CardHTMLSerializer(serializers.Serializer):
    sections = serializers.DictField(child=serializers.CharField(), help_text="Sanitised HTML of each section.")
    body = serializers.CharField(help_text="Sanitised HTML of the body.")


class CardSerializer(serializers.Serializer):
    asset = serializers.CharField(help_text="`team/slug` of the asset.")
    version = serializers.CharField()
    kind = serializers.CharField(help_text="The asset kind; datasets have datasheet sections.")
    section_titles = serializers.DictField(
        child=serializers.CharField(), help_text="The sections this kind of card has, key to title, in order."
    )
    sections = serializers.DictField(child=serializers.CharField(), help_text=_SECTIONS_HELP)
    body = serializers.CharField(help_text="Free Markdown.")
    license = serializers.CharField()
    library_name = serializers.CharField()
    pipeline_tag = serializers.CharField()
    tags = _names("Hugging Face tags.")
    datasets = _names("Datasets used.")
    metrics = _names("Metric names.")
    base_model = _names("Models this one derives from.")
    model_index = serializers.ListField(child=serializers.JSONField(), help_text="Hugging Face `model-index`.")
    extra = serializers.DictField(child=serializers.JSONField(), help_text="Other front-matter keys, verbatim.")
    completeness = serializers.IntegerField(
        min_value=0,
        max_value=100,
        help_text=(
            "Share of the parts filled: every section, the body (at least 20 non-space characters each) and the "
            "licence."
        ),
    )
    frozen = serializers.BooleanField(help_text="True for approved or deprecated versions: the card cannot change.")
    html = CardHTMLSerializer()
    updated_by = serializers.CharField(allow_null=True)
    updated_at = serializers.DateTimeField(allow_null=True)


class CardInputSerializer(RejectUnknownFieldsMixin, serializers.Serializer):
    sections = serializers.DictField(
        child=StrictCharField(allow_blank=True, trim_whitespace=False), required=False, help_text=_SECTIONS_HELP
    )
    body = StrictCharField(
        required=False, allow_blank=True, trim_whitespace=False, help_text="Free Markdown, at most 256 KiB."
    )
    license = StrictCharField(
        required=False,
        allow_blank=True,
        max_length=SHORT_TEXT_MAX_CHARS,
        help_text="Licence, as on the Hugging Face Hub (e.g. apache-2.0).",
    )
    library_name = StrictCharField(required=False, allow_blank=True, max_length=SHORT_TEXT_MAX_CHARS)
    pipeline_tag = StrictCharField(required=False, allow_blank=True, max_length=SHORT_TEXT_MAX_CHARS)
    tags = serializers.ListField(
        child=StrictCharField(max_length=NAME_MAX_CHARS), required=False, max_length=NAMES_MAX_ITEMS
    )
    datasets = serializers.ListField(
        child=StrictCharField(max_length=NAME_MAX_CHARS), required=False, max_length=NAMES_MAX_ITEMS
    )
    metrics = serializers.ListField(
        child=StrictCharField(max_length=NAME_MAX_CHARS), required=False, max_length=NAMES_MAX_ITEMS
    )
    base_model = serializers.ListField(
        child=StrictCharField(max_length=NAME_MAX_CHARS), required=False, max_length=NAMES_MAX_ITEMS
    )
    model_index = serializers.ListField(
        child=serializers.JSONField(), required=False, help_text="Hugging Face `model-index` (evaluation results)."
    )
    extra = serializers.DictField(
        child=serializers.JSONField(), required=False, help_text="Other front-matter keys, kept verbatim in the README."
    )


def _card_data(version: AssetVersion, card: ModelCard | None) -> dict:
    kind = version.asset.kind
    fields = card.as_fields() if card is not None else empty_card_fields()
    return {
        "asset": version.asset.full_slug,
        "version": version.version,
        "kind": kind,
        "section_titles": sections_for(kind),
        **fields,
        "completeness": card_completeness(card, kind),
        "frozen": card_frozen(version=version),
        "html": {
            "sections": {key: render_markdown(text) for key, text in fields["sections"].items()},
            "body": render_markdown(fields["body"]),
        },
        "updated_by": card.updated_by.username if card is not None and card.updated_by else None,
        "updated_at": card.updated_at if card is not None else None,
    }


class CardView(APIView):
    write_scope = Scope.VERSIONS_WRITE

    @extend_schema(operation_id="version_card_retrieve", responses=CardSerializer)
    def get(self, request, team, slug, version):
        """The version's card (empty, completeness 0, when none was written), with sanitised HTML."""
        found = visible_version_get(user=request.user, team=team, slug=slug, version=version)
        return Response(CardSerializer(_card_data(found, card_get(version=found))).data)

    @extend_schema(operation_id="version_card_update", request=CardInputSerializer, responses=CardSerializer)
    def put(self, request, team, slug, version):
        """Replace the card (fields left out become empty). Team members; 409 once the version is approved."""
        found = visible_version_get(user=request.user, team=team, slug=slug, version=version)
        data = parse_input(CardInputSerializer, request.data)
        card = card_update(user=request.user, version=found, fields=dict(data))
        return Response(CardSerializer(_card_data(found, card)).data)


class CardReadmeView(APIView):
    write_scope = Scope.VERSIONS_WRITE
    parser_classes = [MarkdownParser]

    @extend_schema(
        operation_id="version_card_readme_retrieve",
        responses={
            (200, "text/markdown"): OpenApiResponse(
                OpenApiTypes.STR,
                description=(
                    "The card as a Hugging Face README.md: YAML front matter, then Markdown with each section as a "
                    "level-2 heading."
                ),
            )
        },
    )
    def get(self, request, team, slug, version):
        found = visible_version_get(user=request.user, team=team, slug=slug, version=version)
        response = HttpResponse(card_readme(version=found), content_type="text/markdown; charset=utf-8")
        response["Content-Disposition"] = 'inline; filename="README.md"'
        return response

    # The body is README text, whatever it holds: the schema leaves it untyped, since on the wire any
    # value is text (a typed schema would have fuzzers call '{}' a wrongly typed body).
    @extend_schema(
        operation_id="version_card_readme_import", request={"text/markdown": OpenApiTypes.ANY}, responses=CardSerializer
    )
    def put(self, request, team, slug, version):
        """Replace the card with a Hugging Face README.md (at most 1 MiB, UTF-8).

        Known front-matter keys become fields, other keys are kept in `extra`; level-2 headings that name a
        section become that section, the rest stays in `body`.
        """
        found = visible_version_get(user=request.user, team=team, slug=slug, version=version)
        text = request.data if isinstance(request.data, str) else ""
        if not text.strip():
            raise InvalidInput("The README is empty; send the README.md text as a text/markdown body.")
        card = card_import_huggingface(user=request.user, version=found, text=text)
        return Response(CardSerializer(_card_data(found, card)).data)
