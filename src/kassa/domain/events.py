"""What a transition says happened; services store each as an Event in the same transaction."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from .records import quick_init


@quick_init
@dataclass(frozen=True, slots=True)
class DomainEvent:
    """``type`` (e.g. ``payment_intent.succeeded``), the object after the change, and the
    attributes that changed with their previous values."""

    type: str
    object: Any
    previous_attributes: dict[str, Any] = field(default_factory=dict)
