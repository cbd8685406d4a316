from django.apps import AppConfig


class ControlsConfig(AppConfig):
    name = "controls"
    verbose_name = "Controls and catalogue"

    def ready(self) -> None:
        from aims import dashboard, demo
        from controls.catalogue.selectors import catalogue_tiles
        from controls.readiness import readiness_tiles
        from controls.soa.demo import soa_demo_seed

        dashboard.register(catalogue_tiles)
        dashboard.register(readiness_tiles)
        demo.register(soa_demo_seed)
