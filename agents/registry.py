"""Registry of learning rules: ``make_learner(name, **kw)``, ``list_learners(role=..., feedback=...)``.

Every entry declares the roles it can play and the feedback it needs, and is constructible with defaults
(the paper's step sizes where the paper gives them), so experiments and tournaments can enumerate "every
registered learner that fits the role". The SB3 adapter is not registered: it needs a trained model; a saved
one is named ``"sb3:ALGO:PATH"`` (:func:`agents.sb3.load_sb3`).

Plugins: installed packages declare learners under the entry-point group ``stackenv.learners`` (a Learner class,
registered under the entry's name, or a module whose import registers them); they are loaded on first lookup.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from agents.base import FEEDBACK_MODES, ROLES, Learner, check_feedback, provided_needs
from stackenv.games.registry import load_plugins


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
        if isinstance(self.factory, type):
            return tuple(m for m in FEEDBACK_MODES if self.needs in provided_needs(m, role == "leader"))
        return self.factory().feedback_modes(role == "leader")  # a factory's learner may narrow its modes


_REGISTRY: dict[str, LearnerSpec] = {}


def _check_role(role: str) -> str:
    if role not in ROLES:
        raise ValueError(f"unknown role {role!r}; valid roles: {', '.join(ROLES)}")
    return role


def register_learner(
    cls: Callable[..., Learner],
    name: str | None = None,
    summary: str | None = None,
    roles: frozenset[str] | None = None,
    needs: str | None = None,
) -> Callable[..., Learner]:
    """Register a :class:`~agents.base.Learner` subclass under ``name`` (default ``cls.name``).

    A factory function (e.g. an alias of a class with other settings, like ``lola_newton``) may be registered
    too: ``name``, ``roles`` and ``needs`` then default to those of the learner it builds with no arguments.
    """
    if not isinstance(cls, type):
        sample = cls()
        name, roles, needs = name or sample.name, roles or sample.roles, needs or sample.needs
    name = name or cls.name
    if name in _REGISTRY and _REGISTRY[name].factory is not cls:
        raise ValueError(f"a learner named {name!r} is already registered")
    doc = summary or (cls.__doc__ or name).strip().splitlines()[0]
    _REGISTRY[name] = LearnerSpec(name, cls, frozenset(roles or cls.roles), needs or cls.needs, doc)
    return cls


def learner_spec(name: str) -> LearnerSpec:
    """The entry registered under ``name`` (or a saved SB3 model, ``"sb3:ALGO:PATH"``); ``ValueError`` listing the
    valid names otherwise."""
    if name.startswith("sb3:"):
        from agents.sb3 import sb3_spec

        return sb3_spec(name)
    if name not in _REGISTRY:
        _load_entry_points()
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


def _load_entry_points() -> None:
    for name, obj in load_plugins("stackenv.learners"):
        if isinstance(obj, type) and issubclass(obj, Learner) and name not in _REGISTRY:
            register_learner(obj, name=name)


def list_learners(role: str | None = None, feedback: str | None = None) -> list[str]:
    """Registered names, sorted; optionally only those that can play ``role`` and work with ``feedback``.

    ``feedback`` without ``role`` keeps learners that can use the mode in at least one of their roles.
    """
    _load_entry_points()
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
