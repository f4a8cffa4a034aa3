"""Tag suggestions: precision@3, leaving each sample's tags out, on a rendered tagged library.

The library is rendered with fluidsynth from Debian's TimGM6mb soundfont
(GPL-2; none of the reserved sets): the drums of five GM kits (standard,
electronic, TR-808, jazz, brush) and single notes of a dozen melodic
programs, each analysed by the product's analyser (category, embedding).
Every sample carries three tags a producer might give it: what it is (its
GM drum's or instrument family's word, e.g. "snare", "piano"), where it is
from (its kit, or "melodic"), and "bright" or "dark" by its spectral
centroid. Half the file names carry the kit's word, as packs' names do.
Each sample in turn has its tags hidden and gets three suggestions from
all the others by the product's rule (``organise.suggestions.rank``: timbre
neighbours, category, name words); precision@3 is the share of those three
that are among its hidden tags. A baseline suggests the library's three
most common tags to everyone.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np

from library.analysis.training.midi import DRUM_CHANNEL, Note, Program

SR = 22050
KITS = {0: "standard", 24: "electronic", 25: "808", 32: "jazz", 40: "brush"}
DRUMS = {
    35: "kick",
    36: "kick",
    38: "snare",
    40: "snare",
    39: "clap",
    42: "hihat",
    44: "hihat",
    46: "hihat",
    41: "tom",
    45: "tom",
    48: "tom",
    49: "crash",
    51: "ride",
    56: "cowbell",
    75: "claves",
}
PROGRAMS = {
    0: "piano",
    4: "piano",
    11: "mallet",
    12: "mallet",
    33: "bass",
    38: "bass",
    48: "strings",
    52: "choir",
    62: "brass",
    73: "flute",
    81: "lead",
    89: "pad",
}


@dataclass
class Tagged:
    name: str
    tags: set[str]
    category: str
    embedding: np.ndarray


def _render() -> list[tuple[str, set[str], np.ndarray]]:
    from benchmarks.bench_duplicates import TIMGM6MB, _render, _trim

    notes, programs, spans, labels = [], [], [], []
    t = 0.0
    for kit, kit_word in KITS.items():
        programs.append(Program(t, DRUM_CHANNEL, 0, kit))
        t += 0.1
        for note, word in DRUMS.items():
            notes.append(Note(t, 0.2, note, 100, DRUM_CHANNEL))
            spans.append((t, t + 1.5))
            labels.append((f"{word} {note}", {word, kit_word}, kit_word))
            t += 1.7
    for program, word in PROGRAMS.items():
        programs.append(Program(t, 0, 0, program))
        t += 0.1
        for pitch in (45, 57, 69):
            notes.append(Note(t, 0.8, pitch, 100, 0))
            spans.append((t, t + 2.0))
            labels.append((f"{word} {pitch}", {word, "melodic"}, "melodic"))
            t += 2.2
    audio = _render(TIMGM6MB, notes, programs)
    out = []
    rng = np.random.default_rng(19)
    for (name, tags, source), (start, end) in zip(labels, spans, strict=True):
        piece = _trim(audio[int(start * 44100) : int(end * 44100)])
        if piece.size < 441:
            continue
        # Half the names carry the source's word, as packs' file names often do.
        if source != "melodic" and rng.random() < 0.5:
            name = f"{source} {name}"
        out.append((name, tags, piece))
    return out


def build_library() -> list[Tagged]:
    import soxr

    from library.analysis import Audio, analyze_audio

    rendered = _render()
    analysed = []
    for name, tags, piece in rendered:
        x = soxr.resample(piece, 44100, SR).astype(np.float32)
        d = analyze_audio(Audio.from_array(x, SR), filename=f"{name}.wav")
        analysed.append((name, tags, d))
    centroids = [d["spectral_centroid"] or 0.0 for _, _, d in analysed]
    middle = float(np.median(centroids))
    library = []
    for (name, tags, d), centroid in zip(analysed, centroids, strict=True):
        character = "bright" if centroid > middle else "dark"
        vector = np.asarray(d["embedding"], dtype=float)
        library.append(
            Tagged(name, {*tags, character}, d["category"], vector / np.linalg.norm(vector))
        )
    return library


def evaluate(library: list[Tagged]) -> tuple[float, float, float]:
    """(precision@3, hit@1, baseline precision@3), each sample's tags left out in turn."""
    from organise import suggestions

    vectors = np.stack([s.embedding for s in library])
    hits3, hits1, base = [], [], []
    for i, sample in enumerate(library):
        others = [j for j in range(len(library)) if j != i]
        distances = 1.0 - vectors[others] @ sample.embedding
        order = np.argsort(distances)[: suggestions.NEIGHBOURS]
        neighbours = [
            (float(distances[k]), library[others[k]].tags)
            for k in order
            if distances[k] <= suggestions.NEIGHBOUR_RADIUS
        ]
        same = [library[j].tags for j in others if library[j].category == sample.category]
        category_tags = Counter(tag for tags in same for tag in tags)
        vocabulary = {tag for j in others for tag in library[j].tags}
        found = suggestions.rank(
            neighbours=neighbours,
            category_tags=category_tags,
            category_size=len(same),
            name=sample.name,
            vocabulary=vocabulary,
            limit=3,
        )
        top = [s.tag for s in found]
        hits3.append(len(set(top) & sample.tags) / 3)
        hits1.append(bool(top) and top[0] in sample.tags)
        common = Counter(tag for j in others for tag in library[j].tags).most_common(3)
        base.append(len({tag for tag, _ in common} & sample.tags) / 3)
    return float(np.mean(hits3)), float(np.mean(hits1)), float(np.mean(base))


def run() -> Iterator[str]:
    started = time.perf_counter()
    library = build_library()
    built = time.perf_counter() - started
    started = time.perf_counter()
    precision, first, baseline = evaluate(library)
    ranked = time.perf_counter() - started
    yield (
        f"{len(library)} rendered samples (TimGM6mb: 5 kits, 12 programs), 3 tags each; "
        f"rendered and analysed in {built:.0f} s"
    )
    yield (
        f"precision@3 {precision:.3f} (first suggestion right {first:.1%}); "
        f"baseline, the three commonest tags: {baseline:.3f}"
    )
    yield f"{ranked / len(library) * 1000:.2f} ms to rank one sample's suggestions in memory"
