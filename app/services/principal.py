"""Who is acting, and what their memberships let them do. A plain value, detached from the session."""

from __future__ import annotations

from dataclasses import dataclass

ROLES = ("officer", "head", "analyst", "auditor", "admin")
# Roles that may complete a task asking for a given candidate role: a head may do an officer's task.
ACTING_ROLES = {"officer": ("officer", "head"), "head": ("head",)}


@dataclass(frozen=True)
class MembershipView:
    organisation: str
    organisation_kind: str
    role: str
    delegation_id: int | None = None  # set when the role is "head" by an acting-head delegation


@dataclass(frozen=True)
class Principal:
    user_id: int
    username: str
    full_name: str
    memberships: tuple[MembershipView, ...]

    def has_role(self, *roles: str) -> bool:
        return any(m.role in roles for m in self.memberships)

    def member_of(self, organisation: str) -> bool:
        return any(m.organisation == organisation for m in self.memberships)

    def roles_in(self, organisation: str) -> set[str]:
        return {m.role for m in self.memberships if m.organisation == organisation}

    def can_act(self, organisation: str, candidate_role: str) -> bool:
        allowed = ACTING_ROLES.get(candidate_role, (candidate_role,))
        return bool(self.roles_in(organisation) & set(allowed))

    def can_see_tasks_of(self, organisation: str) -> bool:
        return bool(self.roles_in(organisation) & {"officer", "head"})

    def task_scopes(self) -> dict[str, tuple[str, ...]]:
        """organisation code -> candidate roles whose tasks this user may act on there."""
        scopes: dict[str, set[str]] = {}
        for m in self.memberships:
            for candidate, acting in ACTING_ROLES.items():
                if m.role in acting:
                    scopes.setdefault(m.organisation, set()).add(candidate)
        return {org: tuple(sorted(roles)) for org, roles in scopes.items()}

    def delegation_for(self, organisation: str) -> int | None:
        """The acting-head delegation this user holds for the organisation today, if any."""
        return next(
            (m.delegation_id for m in self.memberships if m.organisation == organisation and m.delegation_id), None
        )

    def is_first_head_of(self, organisation: str) -> bool:
        return any(
            m.organisation == organisation and m.role == "head" and not m.delegation_id for m in self.memberships
        )

    def in_kind(self, kind: str, *roles: str) -> bool:
        return any(m.organisation_kind == kind and (not roles or m.role in roles) for m in self.memberships)

    @property
    def is_admin(self) -> bool:
        return self.has_role("admin")

    @property
    def is_auditor(self) -> bool:
        return self.has_role("auditor")
