"""Names split where producers split them: "kick-hard01" and "KickHard01" as "kick hard 01".

``search_normalise`` (applied to documents, to the word list and to queries)
now also splits a hyphen between two letters or digits (a hyphen after a space
still excludes a word: "kick -snare"), and adds the camel-case parts of a word
after the text ("KickHard" -> "KickHard Kick Hard"), so that "kick" finds
"KickHard01" while "kickhard" still does. Every search row is rebuilt with it.
"""

from django.db import migrations

NORMALISE = r"""
CREATE OR REPLACE FUNCTION search_normalise(value text) RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT CASE WHEN split ~ '[[:lower:]][[:upper:]]'
                THEN split || ' ' || regexp_replace(split, '([[:lower:]])([[:upper:]])', '\1 \2', 'g')
                ELSE split END
    FROM (
        SELECT regexp_replace(
            regexp_replace(
                regexp_replace(
                    regexp_replace(coalesce(value, ''), '[_./\\|+]+', ' ', 'g'),
                    '([[:alnum:]])-(?=[[:alnum:]])', '\1 ', 'g'),
                '([[:alpha:]])([[:digit:]])', '\1 \2', 'g'),
            '([[:digit:]])([[:alpha:]])', '\1 \2', 'g') AS split
    ) normalised
$$;
"""

PREVIOUS = r"""
CREATE OR REPLACE FUNCTION search_normalise(value text) RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT regexp_replace(
        regexp_replace(
            regexp_replace(coalesce(value, ''), '[_./\\|+]+', ' ', 'g'),
            '([[:alpha:]])([[:digit:]])', '\1 \2', 'g'),
        '([[:digit:]])([[:alpha:]])', '\1 \2', 'g')
$$;
"""

REBUILD = "SELECT search_refresh(ARRAY(SELECT id FROM library_sample), true)"


class Migration(migrations.Migration):
    dependencies = [
        ("search", "0009_sample_vectors_by_category_and_key"),
    ]

    operations = [
        migrations.RunSQL([NORMALISE, REBUILD], [PREVIOUS, REBUILD]),
    ]
