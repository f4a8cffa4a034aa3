"""Template tags for organising: the viewer's own marks on a sample."""

from django import template

from organise.selectors import rating_of

register = template.Library()


@register.simple_tag(takes_context=True)
def sample_marks(context, sample) -> dict:
    """``{"favourite": bool, "rating": int | None}`` of ``sample`` for the signed-in viewer."""
    favourite, rating = rating_of(user=context["request"].user, sample=sample)
    return {"favourite": favourite, "rating": rating}
