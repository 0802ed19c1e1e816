from django.apps import AppConfig


class ContactsConfig(AppConfig):
    name = "contacts"
    verbose_name = "Dealer contacts"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from contacts import lifecycle

        lifecycle.connect()

        # Registers the tasks and the consumer's start and stop hooks (the reaper thread)
        # in every process, so a consumer started in-process (tests) has them too.
        from contacts import tasks  # noqa: F401
