"""Money in the example domains is ``Decimal``, never ``float``.

``0.1 + 0.2 == 0.30000000000000004`` in binary floating point; a bank that
adds cents that way loses or invents money. :func:`money` is the one check
every command uses before an amount goes into an event.
"""

from __future__ import annotations

from decimal import Decimal

from ..write.aggregate import DomainError


def money(value: object, what: str, *, allow_zero: bool = False) -> Decimal:
    """Return ``value`` as a ``Decimal`` amount, or explain what is wrong with it.

    ``Decimal`` and ``int`` are accepted; a ``float`` (or anything else) is a
    ``TypeError``. An amount that is not a finite number above zero (or at
    least zero, with ``allow_zero``) breaks a business rule: ``DomainError``.

    >>> money(Decimal("200.00"), "a deposit")
    Decimal('200.00')
    """
    if isinstance(value, bool) or not isinstance(value, (Decimal, int)):
        hint = f"Decimal({str(value)!r})" if isinstance(value, float) else "Decimal('200.00')"
        raise TypeError(f"{what} must be a Decimal, got {type(value).__name__} {value!r}; write {hint}")
    amount = Decimal(value)
    if not amount.is_finite():
        raise DomainError(f"{what} must be a finite amount, got {amount}")
    if amount < 0 or (amount == 0 and not allow_zero):
        raise DomainError(f"{what} must be {'zero or more' if allow_zero else 'more than zero'}, got {amount}")
    return amount
