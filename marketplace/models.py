from marketplace.assets.models import Asset, AssetKind, Tag, Visibility
from marketplace.teams.models import Membership, Team, TeamRole
from marketplace.tokens.models import APIToken

__all__ = ["APIToken", "Asset", "AssetKind", "Membership", "Tag", "Team", "TeamRole", "Visibility"]
