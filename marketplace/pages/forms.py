"""Forms of the portal: they only parse input; services decide and raise domain errors shown on the form."""

from django import forms
from django.conf import settings

from registry.endpoints.models import ENDPOINT_NAME_MAX_LENGTH, ENDPOINT_NAME_PATTERN
from registry.governance.models import ReviewDecision
from registry.kernel.access import TeamRole
from registry.kernel.lib.slugs import SLUG_PATTERN
from registry.tokens.models import Scope


class UploadForm(forms.Form):
    version = forms.CharField(max_length=100, help_text="A semantic version, for example 1.1.0 or 2.0.0-rc.1.")
    file = forms.FileField(help_text="Models: one .onnx file, or a .zip of one .onnx and its external data.")
    metadata = forms.CharField(
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text='Optional: a JSON object, for example {"accuracy": 0.97}. Monitoring reads "feature_map": '
        '{"inputs": {"input": ["sepal_length_cm", ...]}} to name the dataset column of each input column '
        "(inferred from the training dataset's columns when left out).",
    )
    input_example = forms.FileField(
        required=False,
        help_text="Optional, models: an .npz of named arrays or a .json of V2 inputs; validation runs the model on "
        "it, and the endpoint page's examples show its values.",
    )


class DeployForm(forms.Form):
    team = forms.ChoiceField(label="For team", help_text="The team whose members may call and manage the endpoint.")
    name = forms.RegexField(
        ENDPOINT_NAME_PATTERN,
        max_length=ENDPOINT_NAME_MAX_LENGTH,
        required=False,
        label="Endpoint name",
        help_text="Optional; lowercase letters, digits and '-'.",
    )

    def __init__(self, *args, teams=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["team"].choices = [(t.slug, t.name or t.slug) for t in teams]


class ReviewForm(forms.Form):
    decision = forms.ChoiceField(choices=ReviewDecision.choices, widget=forms.RadioSelect)
    comment = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 4}),
        max_length=10_000,
        help_text="Every review carries a comment: what you checked, or what must change.",
    )


class TokenForm(forms.Form):
    name = forms.CharField(max_length=100, label="Token name", help_text="What the token is for, e.g. 'CI on laptop'.")
    scopes = forms.MultipleChoiceField(
        choices=Scope.choices,
        initial=list(Scope.values),
        widget=forms.CheckboxSelectMultiple,
        label="Scopes",
        help_text="What the token may do; give a pipeline only what it needs.",
        error_messages={"required": "Choose at least one scope."},
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # From the settings as they are now (tests change them), not as they were at import.
        self.fields["expires_in_days"] = forms.IntegerField(
            min_value=1,
            max_value=settings.MODELHUB_TOKEN_MAX_DAYS,
            initial=settings.MODELHUB_TOKEN_DEFAULT_DAYS,
            label="Expires in (days)",
            help_text="At most the organisation's limit.",
        )


class MemberForm(forms.Form):
    username = forms.CharField(max_length=150)
    role = forms.ChoiceField(choices=TeamRole.choices, initial=TeamRole.MEMBER)


class RoleForm(forms.Form):
    role = forms.ChoiceField(choices=TeamRole.choices)


class TeamForm(forms.Form):
    slug = forms.RegexField(SLUG_PATTERN, max_length=64, help_text="Lowercase letters and digits, e.g. vision-lab.")
    name = forms.CharField(max_length=100)
