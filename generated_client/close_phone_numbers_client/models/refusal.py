from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, TypeVar, cast

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..models.refusal_status import RefusalStatus
from ..types import UNSET, Unset

if TYPE_CHECKING:
    from ..models.refusal_field_errors import RefusalFieldErrors


T = TypeVar("T", bound="Refusal")


@_attrs_define
class Refusal:
    """Why nothing was rented. `status` says why in a word (an open set); `error` says it
    for people and is always present when `status` is `error`. Validation failures also
    list their messages in `errors` and per field in `field-errors`, as everywhere in the
    Close API.

    """

    status: RefusalStatus | str
    """ Why nothing was rented (an open set; treat an unknown value as a refusal). """
    error: str | Unset = UNSET
    """ A human-readable reason. """
    errors: list[str] | Unset = UNSET
    """ Validation messages not tied to one field. """
    field_errors: RefusalFieldErrors | Unset = UNSET
    """ Validation messages by request field. """
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        status: str
        if isinstance(self.status, RefusalStatus):
            status = self.status.value
        else:
            status = self.status

        error = self.error

        errors: list[str] | Unset = UNSET
        if not isinstance(self.errors, Unset):
            errors = self.errors

        field_errors: dict[str, Any] | Unset = UNSET
        if not isinstance(self.field_errors, Unset):
            field_errors = self.field_errors.to_dict()

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "status": status,
            }
        )
        if error is not UNSET:
            field_dict["error"] = error
        if errors is not UNSET:
            field_dict["errors"] = errors
        if field_errors is not UNSET:
            field_dict["field-errors"] = field_errors

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        from ..models.refusal_field_errors import RefusalFieldErrors  # noqa: PLC0415

        d = dict(src_dict)

        def _parse_status(data: object) -> RefusalStatus | str:
            try:
                if not isinstance(data, str):
                    raise TypeError()
                status_type_0 = RefusalStatus(data)

                return status_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(RefusalStatus | str, data)

        status = _parse_status(d.pop("status"))

        error = d.pop("error", UNSET)

        errors = cast(list[str], d.pop("errors", UNSET))

        _field_errors = d.pop("field-errors", UNSET)
        field_errors: RefusalFieldErrors | Unset
        if isinstance(_field_errors, Unset):
            field_errors = UNSET
        else:
            field_errors = RefusalFieldErrors.from_dict(_field_errors)

        refusal = cls(
            status=status,
            error=error,
            errors=errors,
            field_errors=field_errors,
        )

        refusal.additional_properties = d
        return refusal

    @property
    def additional_keys(self) -> list[str]:
        return list(self.additional_properties.keys())

    def __getitem__(self, key: str) -> Any:
        return self.additional_properties[key]

    def __setitem__(self, key: str, value: Any) -> None:
        self.additional_properties[key] = value

    def __delitem__(self, key: str) -> None:
        del self.additional_properties[key]

    def __contains__(self, key: str) -> bool:
        return key in self.additional_properties
