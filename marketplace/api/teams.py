from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.response import Response

from marketplace.api.input import StrictCharField, StrictRegexField, parse_input
from marketplace.api.views import APIView, GenericAPIView
from registry.kernel.access import TeamRole
from registry.kernel.lib.slugs import SLUG_PATTERN
from registry.teams.models import MAX_TEAM_DESCRIPTION_CHARS, Membership, Team
from registry.teams.selectors import team_get, team_list, team_members
from registry.teams.services import team_create, team_member_add, team_member_remove, team_member_set_role
from registry.tokens.models import Scope


class TeamSerializer(serializers.Serializer):
    slug = StrictRegexField(SLUG_PATTERN, max_length=64)
    name = StrictCharField(max_length=100)
    description = StrictCharField(required=False, allow_blank=True, default="", max_length=MAX_TEAM_DESCRIPTION_CHARS)
    member_count = serializers.IntegerField(read_only=True)
    created_at = serializers.DateTimeField(read_only=True)


class MembershipSerializer(serializers.Serializer):
    username = StrictCharField(source="user.username", max_length=150)
    role = serializers.ChoiceField(choices=TeamRole.choices, default=TeamRole.MEMBER)
    created_at = serializers.DateTimeField(read_only=True)


class RoleSerializer(serializers.Serializer):
    role = serializers.ChoiceField(choices=TeamRole.choices)


class TeamListView(GenericAPIView):
    write_scope = Scope.TEAMS_ADMIN
    serializer_class = TeamSerializer
    queryset = Team.objects.none()  # tells the schema the model; data comes from selectors

    @extend_schema(operation_id="teams_list", responses=TeamSerializer(many=True))
    def get(self, request):
        page = self.paginate_queryset(team_list(user=request.user))
        return self.get_paginated_response(TeamSerializer(page, many=True).data)

    @extend_schema(request=TeamSerializer, responses={201: TeamSerializer})
    def post(self, request):
        """Create a team; the caller becomes its maintainer."""
        data = parse_input(TeamSerializer, request.data)
        team = team_create(user=request.user, **data)
        return Response(TeamSerializer(team).data, status=status.HTTP_201_CREATED)


class TeamDetailView(APIView):
    @extend_schema(responses=TeamSerializer)
    def get(self, request, slug):
        return Response(TeamSerializer(team_get(user=request.user, slug=slug)).data)


class TeamMemberListView(GenericAPIView):
    write_scope = Scope.TEAMS_ADMIN
    serializer_class = MembershipSerializer
    queryset = Membership.objects.none()  # for the schema only

    @extend_schema(operation_id="team_members_list", responses=MembershipSerializer(many=True))
    def get(self, request, slug):
        team = team_get(user=request.user, slug=slug)
        page = self.paginate_queryset(team_members(team=team))
        return self.get_paginated_response(MembershipSerializer(page, many=True).data)

    @extend_schema(request=MembershipSerializer, responses={201: MembershipSerializer})
    def post(self, request, slug):
        """Add a member (maintainers only)."""
        team = team_get(user=request.user, slug=slug)
        data = parse_input(MembershipSerializer, request.data)
        membership = team_member_add(
            actor=request.user, team=team, username=data["user"]["username"], role=data["role"]
        )
        return Response(MembershipSerializer(membership).data, status=status.HTTP_201_CREATED)


class TeamMemberDetailView(APIView):
    write_scope = Scope.TEAMS_ADMIN

    @extend_schema(request=RoleSerializer, responses=MembershipSerializer)
    def patch(self, request, slug, username):
        """Change a member's role (maintainers only; a team keeps at least one maintainer)."""
        team = team_get(user=request.user, slug=slug)
        data = parse_input(RoleSerializer, request.data)
        membership = team_member_set_role(actor=request.user, team=team, username=username, role=data["role"])
        return Response(MembershipSerializer(membership).data)

    @extend_schema(responses={204: None})
    def delete(self, request, slug, username):
        """Remove a member (maintainers), or leave the team (yourself)."""
        team = team_get(user=request.user, slug=slug)
        team_member_remove(actor=request.user, team=team, username=username)
        return Response(status=status.HTTP_204_NO_CONTENT)
