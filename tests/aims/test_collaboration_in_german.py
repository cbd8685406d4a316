"""What is written for a member is written in their language: a notification and its e-mail in the
recipient's (not the author's), reminders in the owner's or the organisation's, and the shared page
parts (history, pagination) in the reader's.

Acme's alice writes in French; olivia reads German (her own choice) or French.
"""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from django.core import mail
from django.urls import reverse

from aims.collaboration.models import Notification
from aims.collaboration.services import task_assign
from aims.records import record_save
from controls.evidence.reminders import reminders_send
from controls.models import ImplementationStatus
from tests.controls.factories import ApplicabilityStatementFactory, EvidenceFactory
from tests.risk.factories import RiskFactory

pytestmark = pytest.mark.django_db

TODAY = date(2026, 3, 2)


def speaks(user, language):
    user.language = language
    user.save()
    return user


@pytest.fixture
def risk(acme, alice):
    return RiskFactory(organization=acme, owner=alice, title="Model drift degrades triage")


def test_a_mention_tells_a_german_member_in_german_while_the_author_reads_french(
    login, risk, alice, olivia, django_capture_on_commit_callbacks
):
    speaks(alice, "fr")
    speaks(olivia, "de")
    alice.full_name = "Alice Martin"
    alice.save()

    with django_capture_on_commit_callbacks(execute=True):
        answer = login(alice).post(
            reverse("comment_create", args=[risk._meta.label_lower, risk.pk]),
            {"comment-body": "@olivia merci de réévaluer ce risque."},
            follow=True,
        )

    # The author's own page stays French.
    page = answer.content.decode()
    assert answer["Content-Language"] == "fr"
    assert "Commentaire publié." in page and "Publier le commentaire" in page and "Confier une tâche" in page

    # The notice olivia finds in the portal was written in German when it was raised.
    notification = Notification.objects.get(recipient=olivia)
    assert notification.text.startswith("Alice Martin hat Sie bei ")
    assert notification.text.endswith(" erwähnt")
    inbox = login(olivia).get(reverse("notifications")).content.decode()
    assert "Alice Martin hat Sie bei " in inbox and "Alle als gelesen markieren" in inbox

    # And so is its e-mail.
    [message] = mail.outbox
    assert message.to == [olivia.email]
    assert "Alice Martin hat Sie bei " in message.subject
    assert message.body.startswith(f"Guten Tag {olivia.display_name},")
    assert "merci de réévaluer ce risque." in message.body
    assert "Alle Ihre Benachrichtigungen und die Möglichkeit, diese E-Mails abzubestellen:" in message.body
    assert "Hello" not in message.body and "mentioned you" not in message.body


def test_a_task_for_a_german_member_reads_german_with_its_due_date(
    risk, alice, olivia, django_capture_on_commit_callbacks
):
    speaks(alice, "fr")
    speaks(olivia, "de")
    with django_capture_on_commit_callbacks(execute=True):
        task_assign(record=risk, title="Neu bewerten", assignee=olivia, due_date=date(2026, 12, 3), acting_user=alice)

    notification = Notification.objects.get(recipient=olivia)
    assert "hat Ihnen eine Aufgabe zu " in notification.text
    assert notification.text.endswith(": Neu bewerten (fällig am 03 Dez 2026)")
    [message] = mail.outbox
    assert "Die Aufgabe ist am 3 Dezember 2026 fällig." in message.body


def test_a_member_without_a_language_is_told_in_their_organisations(
    risk, acme, alice, olivia, django_capture_on_commit_callbacks
):
    acme.language = "fr"
    acme.save()
    speaks(alice, "de")
    with django_capture_on_commit_callbacks(execute=True):
        task_assign(record=risk, title="Réévaluer", assignee=olivia, due_date=None, acting_user=alice)

    assert " vous a confié une tâche sur " in Notification.objects.get(recipient=olivia).text
    assert mail.outbox[0].body.startswith(f"Bonjour {olivia.display_name},")


def test_an_evidence_reminder_to_a_french_owner_is_french_and_an_english_one_english(acme, olivia, bob):
    speaks(olivia, "fr")
    EvidenceFactory(organization=acme, owner=olivia, title="Rapport de test d'intrusion",
                    valid_until=TODAY + timedelta(days=10))  # fmt: skip
    EvidenceFactory(organization=acme, owner=bob, title="Pen test report", valid_until=TODAY + timedelta(days=10))

    assert reminders_send(today=TODAY) == 2

    by_recipient = {message.to[0]: message.body for message in mail.outbox}
    french = by_recipient[olivia.email]
    assert french.startswith("Bonjour,")
    assert "Vous êtes responsable de cette preuve au sein de Acme Health AI :" in french
    assert "Valable jusqu'au 12 mars 2026 (dans 10 jours)." in french
    assert "Vous recevez ce rappel une seule fois pour cette date d'expiration." in french
    english = by_recipient[bob.email]
    assert english.startswith("Hello,") and "Valid until 12 March 2026 (10 days from now)." in english
    subjects = {message.to[0]: message.subject for message in mail.outbox}
    assert subjects[olivia.email] == "[Acme Health AI] La preuve « Rapport de test d'intrusion » expire dans 10 jours"
    assert subjects[bob.email] == "[Acme Health AI] Evidence “Pen test report” expires in 10 days"


def test_a_soa_reminder_without_an_owner_follows_the_organisations_language(acme, alice, olivia):
    acme.language = "fr"
    acme.save()
    ApplicabilityStatementFactory(organization=acme, ref="A.6.2.6", applicable=True, owner=None,
                                  implementation_status=ImplementationStatus.PLANNED,
                                  target_date=TODAY - timedelta(days=3))  # fmt: skip

    assert reminders_send(today=TODAY) == 1

    body = mail.outbox[0].body
    assert "Cette mesure de la Déclaration d'applicabilité de Acme Health AI n'a pas de responsable" in body
    assert "Date cible : 27 février 2026 (il y a 3 jours)" in body
    assert mail.outbox[0].subject == "[Acme Health AI] La mesure A.6.2.6 a dépassé sa date cible"


def test_the_history_panel_reads_french_on_a_french_page(login, risk, alice):
    speaks(alice, "fr")
    risk.title = "La dérive du modèle dégrade le tri"
    record_save(risk, acting_user=alice)

    page = login(alice).get(reverse("risk:detail", args=[risk.pk])).content.decode()
    assert 'class="history-action action-changed">Modifié</span>' in page
    assert 'class="history-action action-created">Créé</span>' in page
    assert f"par {alice.display_name} · " in page and f"by {alice.display_name}" not in page
    assert "<ins>Non</ins>" in page  # a yes/no field's value, as the history shows it
    assert ">Changed<" not in page and ">Created<" not in page


def test_pagination_reads_french_on_a_french_page(login, acme, olivia):
    speaks(olivia, "fr")
    Notification.objects.bulk_create(
        Notification(organization=acme, recipient=olivia, kind=Notification.Kind.MENTION, text=f"Note {n}", url="/")
        for n in range(30)
    )

    page = login(olivia).get(reverse("notifications")).content.decode()
    assert 'aria-label="Pages"' in page
    assert "Page 1 sur 2 · 30 au total" in page and "Suivante →" in page
    assert "30 non lues." in page and "Tout marquer comme lu" in page

    second = login(olivia).get(reverse("notifications") + "?page=2").content.decode()
    assert "← Précédente" in second and "Page 2 sur 2" in second
