from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, TypeVar, cast

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..models.refusal_status import RefusalStatus
from ..types import UNSET, Unset

if TYPE_CHECKING:
    from ..models.rate_limit_details import RateLimitDetails


T = TypeVar("T", bound="RateLimited")


@_attrs_define
class RateLimited:
    """The body of a 429 answer."""

    error: RateLimitDetails
    """ Close's description of the rate limit that was hit. """
    status: RefusalStatus | str | Unset = UNSET
    """ Present when the endpoint itself answered (an open set). """
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        error = self.error.to_dict()

        status: str | Unset
        if isinstance(self.status, Unset):
            status = UNSET
        elif isinstance(self.status, RefusalStatus):
            status = self.status.value
        else:
            status = self.status

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "error": error,
            }
        )
        if status is not UNSET:
            field_dict["status"] = status

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        from ..models.rate_limit_details import RateLimitDetails  # noqa: PLC0415

        d = dict(src_dict)
        error = RateLimitDetails.from_dict(d.pop("error"))

        def _parse_status(data: object) -> RefusalStatus | str | Unset:
            if isinstance(data, Unset):
                return data
            try:
                if not isinstance(data, str):
                    raise TypeError()
                status_type_0 = RefusalStatus(data)

                return status_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(RefusalStatus | str | Unset, data)

        status = _parse_status(d.pop("status", UNSET))

        rate_limited = cls(
            error=error,
            status=status,
        )

        rate_limited.additional_properties = d
        return rate_limited

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
