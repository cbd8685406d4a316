from django.apps import AppConfig


class RegistryConfig(AppConfig):
    name = "registry"
    verbose_name = "AI system inventory"

    def ready(self) -> None:
        from aims import dashboard
        from registry.selectors import inventory_tiles

        dashboard.register(inventory_tiles)
