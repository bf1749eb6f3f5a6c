from registry.artifacts.models import Blob, VersionFile
from registry.endpoints.models import Endpoint, EndpointKey
from registry.cards.models import ModelCard
from registry.governance.models import Alias, Review, ReviewPolicy, ReviewRound, VersionSignature
from registry.lineage.models import LineageEdge, LineageKind
from registry.notifications.models import Webhook, WebhookDelivery
from registry.validation.models import ValidationOutcome, ValidationReport
from registry.versions.models import AssetVersion, VersionStatus

__all__ = ["Alias", "AssetVersion", "Blob", "Endpoint", "EndpointKey", "LineageEdge", "LineageKind", "ModelCard", "Review", "ReviewPolicy",
           "ReviewRound", "ValidationOutcome", "ValidationReport", "VersionFile", "VersionSignature", "VersionStatus",
           "Webhook", "WebhookDelivery"]
