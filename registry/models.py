"""Every model of Modelhub, one module per area, re-exported here (the `registry` app's models)."""

from registry.artifacts.models import Blob, VersionFile
from registry.assets.models import Asset, AssetKind, Tag
from registry.cards.models import ModelCard
from registry.endpoints.models import Endpoint, EndpointKey, EndpointShadow
from registry.examples.models import InputExample
from registry.governance.models import Alias, Review, ReviewPolicy, ReviewRound, SigningKey, VersionSignature
from registry.identities.models import ExternalIdentity, ServiceAccount
from registry.kernel.access import TeamRole, Visibility
from registry.kernel.audit.models import AuditEvent
from registry.lineage.models import LineageEdge, LineageKind
from registry.monitoring.models import (
    CalibratedThreshold,
    DriftReport,
    EndpointMonitor,
    GroundTruth,
    MonitoringAlarm,
    MonitoringWindow,
    Prediction,
    ShadowPrediction,
    ShadowWindow,
)
from registry.notifications.models import Webhook, WebhookDelivery
from registry.search.models import FacetCount, SearchChange, SearchState, SearchTerm
from registry.teams.models import Membership, Team
from registry.tokens.models import APIToken
from registry.uploads.models import UploadPart, UploadSession
from registry.validation.models import DatasetProfile, TrustedUpstreamKey, ValidationOutcome, ValidationReport
from registry.versions.models import AssetVersion, VersionStatus, VersionTag

__all__ = [
    "ExternalIdentity",
    "VersionTag",
    "ServiceAccount",
    "DatasetProfile",
    "Prediction",
    "ShadowPrediction",
    "ShadowWindow",
    "EndpointShadow",
    "MonitoringWindow",
    "MonitoringAlarm",
    "GroundTruth",
    "EndpointMonitor",
    "DriftReport",
    "CalibratedThreshold",
    "APIToken",
    "Alias",
    "Asset",
    "AssetKind",
    "AssetVersion",
    "AuditEvent",
    "Blob",
    "Endpoint",
    "EndpointKey",
    "FacetCount",
    "InputExample",
    "LineageEdge",
    "LineageKind",
    "Membership",
    "ModelCard",
    "Review",
    "ReviewPolicy",
    "ReviewRound",
    "SearchChange",
    "SearchState",
    "SearchTerm",
    "SigningKey",
    "Tag",
    "UploadPart",
    "UploadSession",
    "Team",
    "TeamRole",
    "TrustedUpstreamKey",
    "ValidationOutcome",
    "ValidationReport",
    "VersionFile",
    "VersionSignature",
    "VersionStatus",
    "Visibility",
    "Webhook",
    "WebhookDelivery",
]
