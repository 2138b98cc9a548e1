"""@personal_data says which fields are personal; mistakes in the declaration are refused at import time."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from esdemo import DomainEvent, KeyStore, PersonalDataCipher
from esdemo.write.erasure import PersonalFields, personal_data, personal_fields_of


@dataclass(frozen=True)
class Signed(DomainEvent):
    person_id: str
    email: str
    plan: str


def test_the_declaration_is_kept_on_the_class():
    cls = personal_data("email", subject="person_id")(type("S", (Signed,), {}))
    assert personal_fields_of(cls) == PersonalFields("person_id", ("email",))
    assert personal_fields_of(Signed) is None


@pytest.mark.parametrize("fields, subject, message", [
    ((), "person_id", "at least one field"),
    (("mail",), "person_id", "no field 'mail'"),
    (("email",), "id", "no field 'id'"),
    (("email", "person_id"), "person_id", "names the subject"),
    (("email", "email"), "person_id", "twice"),
])
def test_mistakes_in_the_declaration_are_refused(fields, subject, message):
    with pytest.raises(ValueError, match=message):
        personal_data(*fields, subject=subject)(Signed)


def test_only_dataclasses_can_be_marked_and_the_cipher_needs_a_key_store():
    with pytest.raises(TypeError, match="dataclass"):
        personal_data("email", subject="person_id")(object)
    with pytest.raises(TypeError, match="KeyStore"):
        PersonalDataCipher("keys.sqlite")
    with KeyStore() as keys, pytest.raises(TypeError, match="os.urandom"):
        PersonalDataCipher(keys, random_bytes=42)
