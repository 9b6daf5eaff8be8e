"""Registry of learning rules: ``make_learner(name, **kw)``, ``list_learners(role=..., feedback=...)``.

Every entry declares the roles it can play and the feedback it needs, and is constructible with defaults
(the paper's step sizes where the paper gives them), so experiments and tournaments can enumerate "every
registered learner that fits the role". The SB3 adapter is not registered: it needs a trained model.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from agents.base import FEEDBACK_MODES, ROLES, Learner, check_feedback


@dataclass(frozen=True)
class LearnerSpec:
    """One registry entry.

    Attributes:
        name: registry name.
        factory: builds the learner from keyword arguments (all optional).
        roles: roles it can play (``leader`` / ``follower``).
        needs: the feedback quantity it consumes (see :func:`agents.base.provided_needs`).
        summary: one line for listings.
    """

    name: str
    factory: Callable[..., Learner]
    roles: frozenset[str]
    needs: str
    summary: str

    def feedback(self, role: str) -> tuple[str, ...]:
        """Feedback modes usable in ``role`` (``leader``: a player with levels below; ``follower``: a bottom one)."""
        _check_role(role)
        cls = self.factory if isinstance(self.factory, type) else type(self.factory())
        return cls.feedback_modes(role == "leader")


_REGISTRY: dict[str, LearnerSpec] = {}


def _check_role(role: str) -> str:
    if role not in ROLES:
        raise ValueError(f"unknown role {role!r}; valid roles: {', '.join(ROLES)}")
    return role


def register_learner(cls: type[Learner], name: str | None = None, summary: str | None = None) -> type[Learner]:
    """Register a :class:`~agents.base.Learner` subclass under ``name`` (default ``cls.name``)."""
    name = name or cls.name
    if name in _REGISTRY and _REGISTRY[name].factory is not cls:
        raise ValueError(f"a learner named {name!r} is already registered")
    doc = summary or (cls.__doc__ or name).strip().splitlines()[0]
    _REGISTRY[name] = LearnerSpec(name, cls, frozenset(cls.roles), cls.needs, doc)
    return cls


def learner_spec(name: str) -> LearnerSpec:
    """The entry registered under ``name``; ``ValueError`` listing the valid names otherwise."""
    try:
        return _REGISTRY[name]
    except KeyError:
        raise ValueError(f"unknown learner {name!r}; registered: {', '.join(sorted(_REGISTRY))}") from None


def make_learner(name: str, **kwargs: Any) -> Learner:
    """Build the learner registered under ``name`` with keyword arguments (defaults for the rest)."""
    spec = learner_spec(name)
    try:
        return spec.factory(**kwargs)
    except TypeError as exc:
        raise ValueError(f"bad arguments for learner {name!r}: {exc}") from None


def list_learners(role: str | None = None, feedback: str | None = None) -> list[str]:
    """Registered names, sorted; optionally only those that can play ``role`` and work with ``feedback``.

    ``feedback`` without ``role`` keeps learners that can use the mode in at least one of their roles.
    """
    if role is not None:
        _check_role(role)
    if feedback is not None:
        check_feedback(feedback)
    out = []
    for name, spec in sorted(_REGISTRY.items()):
        roles = [role] if role is not None else sorted(spec.roles)
        if role is not None and role not in spec.roles:
            continue
        if feedback is not None and not any(feedback in spec.feedback(r) for r in roles):
            continue
        out.append(name)
    return out


__all__ = ["FEEDBACK_MODES", "LearnerSpec", "learner_spec", "list_learners", "make_learner", "register_learner"]
