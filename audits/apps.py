from django.apps import AppConfig


class AuditsConfig(AppConfig):
    name = "audits"
    verbose_name = "Audits and evidence packs"

    def ready(self) -> None:
        from aims import dashboard, demo
        from audits.improvement import improvement_tiles
        from audits.improvement_demo import improvement_demo_seed
        from audits.readiness import improvement_checks
        from controls import readiness

        dashboard.register(improvement_tiles)
        demo.register(improvement_demo_seed)
        readiness.register(improvement_checks)
