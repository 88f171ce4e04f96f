"""The session's user with its roles and permissions in one query.

Every page asks ``has_perm`` (the page itself, the menu, the buttons): Django's ModelBackend loads the user, then
the user's and the groups' permissions, the menu the role names and the tenancy the user's dealerships — five
queries before the page does anything.
On PostgreSQL this backend reads them together and fills the same per-request caches ModelBackend uses, so
permission checks behave exactly as before.
"""

from functools import lru_cache

from django.contrib.auth import get_user_model
from django.contrib.auth.backends import ModelBackend
from django.contrib.auth.models import Group, Permission
from django.contrib.contenttypes.models import ContentType
from django.db import connection
from rest_framework.authtoken.models import Token

from .prepared import fetch_one_prepared
from .tenancy import prefill_user_dealerships, user_dealerships_sql

# A user id PostgreSQL can compare (the prepared identity query takes a bigint); any other is nobody's.
_BIGINT = range(-(2**63), 2**63)


@lru_cache(maxsize=2)
def _identity_sql(*, by_token: bool = False) -> str:
    """The query text (built once: it reads only model metadata). ``by_token``: the user of an API token, found by
    the token's key, with the token's own columns last."""
    User = get_user_model()
    user = User._meta.db_table
    user_groups = User.groups.through._meta.db_table
    user_perms = User.user_permissions.through._meta.db_table
    group, group_perms = Group._meta.db_table, Group.permissions.through._meta.db_table
    permission, content_type = Permission._meta.db_table, ContentType._meta.db_table
    columns = ", ".join(f'u."{field.column}"' for field in User._meta.concrete_fields)
    source, token_columns = f'"{user}" u WHERE u.id = %s', ""
    if by_token:
        token = Token._meta.db_table
        source = f'"{token}" t JOIN "{user}" u ON u.id = t.user_id WHERE t.key = %s'
        token_columns = ", t.created AS dms_token_created"
    return f"""
        SELECT {columns},
            ARRAY(SELECT g.name FROM "{user_groups}" ug JOIN "{group}" g ON g.id = ug.group_id
                  WHERE ug.user_id = u.id ORDER BY g.name) AS dms_role_names,
            ARRAY(SELECT ct.app_label || '.' || p.codename
                  FROM "{user_groups}" ug
                  JOIN "{group_perms}" gp ON gp.group_id = ug.group_id
                  JOIN "{permission}" p ON p.id = gp.permission_id
                  JOIN "{content_type}" ct ON ct.id = p.content_type_id
                  WHERE ug.user_id = u.id) AS dms_group_perms,
            ARRAY(SELECT ct.app_label || '.' || p.codename
                  FROM "{user_perms}" up
                  JOIN "{permission}" p ON p.id = up.permission_id
                  JOIN "{content_type}" ct ON ct.id = p.content_type_id
                  WHERE up.user_id = u.id) AS dms_user_perms,
            {user_dealerships_sql("u")} AS dms_dealerships{token_columns}
        FROM {source}
    """


class IdentityModelBackend(ModelBackend):
    def get_user(self, user_id):
        if connection.vendor != "postgresql":
            return super().get_user(user_id)
        User = get_user_model()
        try:
            user_id = User._meta.pk.to_python(user_id)
        except Exception:  # a malformed id in a session is an anonymous visitor, as in ModelBackend
            return None
        if not isinstance(user_id, int) or user_id not in _BIGINT:
            return None
        # Prepared once per connection (dms.core.prepared): planning this query cost more than running it.
        row = fetch_one_prepared("dms_identity", _identity_sql(), [user_id], types=["bigint"])
        if row is None:
            return None
        user = _user_from_identity_row(row)
        return user if self.user_can_authenticate(user) else None


def _user_from_identity_row(row):
    """The user of an identity query's row, its per-request permission, role and dealership caches filled."""
    User = get_user_model()
    fields = User._meta.concrete_fields
    # PostgreSQL hands over the user's columns as Python values already (no converters for these field types)
    user = User.from_db(connection.alias, [field.attname for field in fields], row[: len(fields)])
    role_names_, group_perms, user_perms, dealerships = row[len(fields) : len(fields) + 4]
    user.role_names = list(role_names_)
    if not user.is_superuser:  # a superuser's permissions are all of them: ModelBackend loads those itself
        user._user_perm_cache = set(user_perms)
        user._group_perm_cache = set(group_perms)
    prefill_user_dealerships(user, dealerships)
    return user


def identity_of_token(key: str):
    """``(user, token)`` of an API token's key in one query — the user with the same caches as the session's
    (issue 19 item 4: DRF's TokenAuthentication read the token and user, then the user's and the groups' permissions
    and the dealerships, four queries on every API request). ``None`` for an unknown key. PostgreSQL only."""
    row = fetch_one_prepared("dms_identity_by_token", _identity_sql(by_token=True), [key], types=["text"])
    if row is None:
        return None
    user = _user_from_identity_row(row)
    token = Token.from_db(connection.alias, ["key", "user_id", "created"], [key, user.pk, row[-1]])
    token.user = user  # the relation is filled: reading token.user costs no query
    return user, token


def role_names(user) -> list[str]:
    """The user's group (role) names, from the identity query when it ran."""
    names = getattr(user, "role_names", None)
    if names is None:
        names = list(user.groups.order_by("name").values_list("name", flat=True))
        user.role_names = names
    return names
