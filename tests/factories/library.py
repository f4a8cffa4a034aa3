"""Factories for the library app: samples, collections, batch jobs."""

import factory

from .accounts import UserFactory


class SampleFactory(factory.django.DjangoModelFactory):
    """A stored sample row with a tiny file; analysis fields filled as if analysed."""

    class Meta:
        model = "library.Sample"

    owner = factory.SubFactory(UserFactory)
    original_filename = factory.Sequence(lambda n: f"sample_{n}.wav")
    name = factory.Sequence(lambda n: f"Sample {n}")
    sha256 = factory.Sequence(lambda n: f"{n:064x}")
    size_bytes = 1000
    format = "wav"
    status = "ready"
    duration = 1.0
    file = factory.django.FileField(filename="sample.wav", data=b"RIFF")


class CollectionFactory(factory.django.DjangoModelFactory):
    """A collection; ``samples=[...]`` fills it in that order."""

    class Meta:
        model = "library.Collection"
        skip_postgeneration_save = True

    owner = factory.SubFactory(UserFactory)
    name = factory.Sequence(lambda n: f"Collection {n}")
    visibility = "private"

    @factory.post_generation
    def samples(obj, create, extracted, **kwargs):  # noqa: N805 - factory_boy hook
        if create and extracted:
            for position, sample in enumerate(extracted):
                obj.items.create(sample=sample, position=position)


class BatchJobFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "library.BatchJob"

    owner = factory.SubFactory(UserFactory)
    kind = "upload"
    total = 0
