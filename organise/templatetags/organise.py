"""Template tags for organising: the viewer's own marks on a sample."""

from django import template

from organise.selectors import rating_of

register = template.Library()


@register.simple_tag(takes_context=True)
def sample_marks(context, sample) -> dict:
    """``{"favourite": bool, "rating": int | None}`` of ``sample`` for the signed-in viewer."""
    favourite, rating = rating_of(user=context["request"].user, sample=sample)
    return {"favourite": favourite, "rating": rating}


@register.simple_tag(takes_context=True)
def tag_suggestions_for(context, sample) -> list:
    """Suggested tags for the viewer's own ``sample`` (none for anyone else's)."""
    from organise.selectors import tag_suggestions

    user = context["request"].user
    if not user.is_authenticated or sample.owner_id != user.pk:
        return []
    return tag_suggestions(owner=user, sample=sample)
