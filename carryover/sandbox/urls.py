"""The sandboxes, mounted under /sandbox/ only when SANDBOX_ENABLED (see carryover/urls.py).

Each serves the real service's paths below its prefix: /sandbox/clever/oauth/authorize
stands for https://clever.com/oauth/authorize, /sandbox/clever/v3.0/users for
https://api.clever.com/v3.0/users, /sandbox/classlink/oauth2/v2/auth for
https://launchpad.classlink.com/oauth2/v2/auth, /sandbox/classlink/v2/my/info for
https://nodeapi.classlink.com/v2/my/info, /sandbox/classlink/ims/oneroster/v1p1/users
for a ClassLink Roster Server (OneRoster 1.1), and
/sandbox/classlink/ims/oneroster/rostering/v1p2/users with its token endpoint
/sandbox/classlink/token for the same server's OneRoster 1.2.
"""

from django.urls import path

from carryover.sandbox import classlink, clever, oneroster, oneroster_v1p2

app_name = "sandbox"

clever_patterns = [
    path("clever", clever.root, name="clever_root"),
    path("clever/.well-known/openid-configuration", clever.discovery, name="clever_discovery"),
    path("clever/.well-known/jwks.json", clever.jwks, name="clever_jwks"),
    path("clever/oauth/authorize", clever.oauth_authorize, name="clever_authorize"),
    path("clever/oauth/tokens", clever.oauth_tokens, name="clever_tokens"),
    path("clever/portal", clever.portal, name="clever_portal"),
    path("clever/v3.0/me", clever.me, name="clever_me"),
    path("clever/v3.0/districts", clever.districts, name="clever_districts"),
    path("clever/v3.0/districts/<str:id>", clever.district, name="clever_district"),
    path("clever/v3.0/schools", clever.schools, name="clever_schools"),
    path("clever/v3.0/schools/<str:id>", clever.school, name="clever_school"),
    path("clever/v3.0/sections", clever.sections, name="clever_sections"),
    path("clever/v3.0/sections/<str:id>", clever.section, name="clever_section"),
    path("clever/v3.0/terms", clever.terms, name="clever_terms"),
    path("clever/v3.0/users", clever.users, name="clever_users"),
    path("clever/v3.0/users/<str:id>", clever.user, name="clever_user"),
    path("clever/v3.0/events", clever.events, name="clever_events"),
    path("clever/v3.0/events/<str:id>", clever.event, name="clever_event"),
    path("clever/admin/events", clever.admin_events, name="clever_admin_events"),
]

classlink_patterns = [
    path("classlink", classlink.root, name="classlink_root"),
    path(
        "classlink/.well-known/openid-configuration",
        classlink.discovery,
        name="classlink_discovery",
    ),
    path("classlink/.well-known/jwks.json", classlink.jwks, name="classlink_jwks"),
    path("classlink/oauth2/v2/auth", classlink.oauth_authorize, name="classlink_authorize"),
    path("classlink/oauth2/v2/token", classlink.oauth_token, name="classlink_token"),
    path("classlink/v2/my/info", classlink.my_info, name="classlink_my_info"),
]

oneroster_patterns = [
    path(
        f"classlink/ims/oneroster/v1p1/{name}",
        oneroster.collection,
        {"name": name},
        name=f"oneroster_{name}",
    )
    for name in oneroster.COLLECTIONS
] + [
    path(
        f"classlink/ims/oneroster/v1p1/{name}/<str:sourced_id>",
        oneroster.item,
        {"name": name},
        name=f"oneroster_{name}_item",
    )
    for name in oneroster.COLLECTIONS
]

oneroster_v1p2_patterns = (
    [
        path("classlink/token", oneroster_v1p2.token, name="oneroster_v1p2_token"),
    ]
    + [
        path(
            f"classlink{oneroster_v1p2.PREFIX}/{name}",
            oneroster_v1p2.collection,
            {"name": name},
            name=f"oneroster_v1p2_{name}",
        )
        for name in oneroster.COLLECTIONS
    ]
    + [
        path(
            f"classlink{oneroster_v1p2.PREFIX}/{name}/<str:sourced_id>",
            oneroster_v1p2.item,
            {"name": name},
            name=f"oneroster_v1p2_{name}_item",
        )
        for name in oneroster.COLLECTIONS
    ]
)

urlpatterns = clever_patterns + classlink_patterns + oneroster_patterns + oneroster_v1p2_patterns
