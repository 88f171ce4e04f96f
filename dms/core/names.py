def full_name(first: str | None, last: str | None, username: str | None) -> str:
    """A person's name from a user's columns, as ``get_full_name() or username`` gives it (for rows read without
    model instances)."""
    return f"{first or ''} {last or ''}".strip() or (username or "")


def user_name(user) -> str:
    """How a user is named on pages, exports and pickers: the full name, or the login when none is set."""
    return user.get_full_name() or user.username
