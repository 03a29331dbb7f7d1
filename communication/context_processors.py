def notices(request):
    """Unread notice count for the top bar (通知公告 badge)."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    from .selectors import unread_count

    return {"unread_notices": unread_count(user)}
