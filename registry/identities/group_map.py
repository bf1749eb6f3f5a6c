"""MODELHUB_OIDC_GROUP_MAP: which identity-provider groups make a user a member of which team, with which role,
and which Modelhub groups (a review policy's reviewer groups) they put the user in. Pure parsing, read by the
settings at start so a mistake stops the process with a message, not the first sign-in.

    ml-vision=team:vision, ml-vision-leads=team:vision:maintainer, model-reviewers=group:reviewers
"""

from dataclasses import dataclass, field

ROLES = ("member", "maintainer")  # registry.kernel.access.TeamRole's values, lowest first


@dataclass(frozen=True)
class GroupMap:
    teams: dict[str, dict[str, str]] = field(default_factory=dict)  # IdP group -> {team slug: role}
    groups: dict[str, set[str]] = field(default_factory=dict)  # IdP group -> Modelhub group names

    @property
    def managed_teams(self) -> set[str]:
        return {slug for targets in self.teams.values() for slug in targets}

    @property
    def managed_groups(self) -> set[str]:
        return {name for names in self.groups.values() for name in names}

    def roles_for(self, idp_groups: set[str]) -> dict[str, str]:
        """{team slug: the highest role any of `idp_groups` gives} for the teams they reach."""
        roles: dict[str, str] = {}
        for idp_group in idp_groups:
            for slug, role in self.teams.get(idp_group, {}).items():
                if ROLES.index(role) >= ROLES.index(roles.get(slug, "member")):
                    roles[slug] = role
        return roles

    def groups_for(self, idp_groups: set[str]) -> set[str]:
        return {name for idp_group in idp_groups for name in self.groups.get(idp_group, set())}


def group_map_parse(text: str) -> GroupMap:
    """ValueError, naming the entry, for anything but `idp-group=team:<slug>[:role]` or `idp-group=group:<name>`
    entries separated by commas."""
    mapping = GroupMap()
    for entry in (part.strip() for part in (text or "").split(",")):
        if not entry:
            continue
        idp_group, sep, target = (piece.strip() for piece in entry.partition("="))
        kind, _, rest = target.partition(":")
        if not sep or not idp_group or not rest:
            raise ValueError(f"'{entry}': write idp-group=team:<slug>[:member|maintainer] or idp-group=group:<name>")
        if kind == "team":
            slug, _, role = rest.partition(":")
            role = role or "member"
            if not slug or role not in ROLES:
                raise ValueError(f"'{entry}': the role is member or maintainer")
            current = mapping.teams.setdefault(idp_group, {}).get(slug, "member")
            mapping.teams[idp_group][slug] = max(current, role, key=ROLES.index)
        elif kind == "group":
            mapping.groups.setdefault(idp_group, set()).add(rest)
        else:
            raise ValueError(f"'{entry}': the target is team:<slug> or group:<name>, not {kind!r}")
    return mapping
