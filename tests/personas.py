"""The personas every role-matrix test walks through (their fixtures are in tests/conftest.py)."""

PERSONAS = (
    "anonymous",
    "legacy_student",
    "rostered_student",
    "teacher",
    "other_teacher",
    "school_admin",
    "support_staff",
    "other_teacher_elsewhere",
    "other_admin_elsewhere",
)
