from __future__ import annotations

from django import template

from carryover.accounts.models import User
from carryover.merging.getrecords import is_locked

register = template.Library()


@register.simple_tag
def get_records_locked(student: User) -> bool:
    """Is Get Records locked for this old account after 10 failed tries?"""
    return bool(student.is_legacy) and is_locked(student)
