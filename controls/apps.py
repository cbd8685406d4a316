from django.apps import AppConfig


class ControlsConfig(AppConfig):
    name = "controls"
    verbose_name = "Controls and catalogue"

    def ready(self) -> None:
        from aims import dashboard
        from controls.selectors import catalogue_tiles

        dashboard.register(catalogue_tiles)
