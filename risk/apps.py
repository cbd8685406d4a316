from django.apps import AppConfig


class RiskConfig(AppConfig):
    name = "risk"
    verbose_name = "Risk and impact"

    def ready(self) -> None:
        from aims import dashboard, demo
        from risk.demo import risk_demo_seed
        from risk.selectors import risk_tiles

        dashboard.register(risk_tiles)
        demo.register(risk_demo_seed)
