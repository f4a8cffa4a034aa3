from django.apps import AppConfig


class OrganiseConfig(AppConfig):
    name = "organise"
    verbose_name = "Organising by sound"
