from marketplace.access import TeamRole, Visibility
from marketplace.assets.models import Asset, AssetKind, Tag
from marketplace.audit.models import AuditAction, AuditEvent
from marketplace.search.models import FacetCount, SearchChange, SearchState, SearchTerm
from marketplace.teams.models import Membership, Team
from marketplace.tokens.models import APIToken

__all__ = ["APIToken", "Asset", "AssetKind", "AuditAction", "AuditEvent", "FacetCount", "Membership", "SearchChange",
           "SearchState", "SearchTerm",
           "Tag", "Team", "TeamRole", "Visibility"]
