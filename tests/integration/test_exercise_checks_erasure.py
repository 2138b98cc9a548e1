"""The check of the erasure exercise accepts right answers and explains each typical mistake."""

from __future__ import annotations

from esdemo import ERASED, Projection, SqlTable
from esdemo.examples.customers import CustomerEmailChanged, CustomerRegistered
from esdemo.exercises import check_newsletter_view
from esdemo.read.memory_views import Documents
from esdemo.write.erasure import SubjectForgotten


class Newsletter(Projection):
    name = "newsletter"
    event_types = ("CustomerRegistered", "CustomerEmailChanged", "SubjectForgotten")

    def __init__(self, registry, storage=None):
        self.registry = registry
        super().__init__(storage)

    def default_storage(self):
        return SqlTable(key="customer_id", columns={"customer_id": "VARCHAR", "email": "VARCHAR"})

    def handle(self, event, recorded, view):
        match event:
            case CustomerRegistered(customer_id=customer_id, email=email):
                view.insert({"customer_id": customer_id, "email": str(email)})
            case CustomerEmailChanged(customer_id=customer_id, email=email):
                view.update(customer_id, email=str(email))
            case SubjectForgotten(subject=subject):
                if subject in view:
                    view.update(subject, email=str(ERASED))


class DeletingNewsletter(Newsletter):
    def default_storage(self):
        return Documents(key="customer_id")

    def handle(self, event, recorded, view):
        if isinstance(event, SubjectForgotten):
            if event.subject in view:
                view.delete(event.subject)
        elif isinstance(event, CustomerRegistered):
            view.upsert({"customer_id": event.customer_id, "email": event.email})
        else:
            super().handle(event, recorded, view)


class ForgetfulOfNothing(Newsletter):
    event_types = ("CustomerRegistered", "CustomerEmailChanged")


class ErasesEveryone(Newsletter):
    seen: list[str]

    def handle(self, event, recorded, view):
        self.__dict__.setdefault("seen", [])
        if isinstance(event, SubjectForgotten):
            for key in self.seen:
                view.update(key, email="<erased>")
        else:
            self.seen.append(event.customer_id)
            super().handle(event, recorded, view)


class HomeMadeMarker(Newsletter):
    def handle(self, event, recorded, view):
        if isinstance(event, SubjectForgotten):
            if event.subject in view:
                view.update(event.subject, email="")
        else:
            super().handle(event, recorded, view)


class NoRegistry(Newsletter):
    def __init__(self, registry, storage=None):
        Projection.__init__(self, storage)


class IgnoresEmailChanges(Newsletter):
    event_types = ("CustomerRegistered", "SubjectForgotten")


def test_right_answers_pass():
    for answer in (Newsletter, DeletingNewsletter):
        feedback = check_newsletter_view(answer)
        assert feedback, feedback.message
        assert "nothing came back" in feedback.message


def test_a_view_that_ignores_subject_forgotten_is_told_it_keeps_the_plaintext():
    feedback = check_newsletter_view(ForgetfulOfNothing)
    assert not feedback and "still shows" in feedback.message and "SubjectForgotten" in feedback.message


def test_erasing_everyone_is_caught():
    feedback = check_newsletter_view(ErasesEveryone)
    assert not feedback and "other customers" in feedback.message


def test_a_home_made_marker_is_refused():
    feedback = check_newsletter_view(HomeMadeMarker)
    assert not feedback and "ERASED" in feedback.message


def test_a_projection_without_the_registry_is_told_to_keep_it():
    feedback = check_newsletter_view(NoRegistry)
    assert not feedback and "self.registry = registry" in feedback.message


def test_missing_email_changes_are_caught_before_the_forget():
    feedback = check_newsletter_view(IgnoresEmailChanges)
    assert not feedback and "CustomerEmailChanged" in feedback.message


def test_not_done_yet():
    assert not check_newsletter_view(...)
    assert "define class Newsletter" in check_newsletter_view(None).message


def test_a_hard_coded_answer_fails_on_another_seed():
    assert check_newsletter_view(Newsletter, seed=3) and check_newsletter_view(Newsletter, seed=99)
