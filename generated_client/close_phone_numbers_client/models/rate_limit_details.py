from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..types import UNSET, Unset

T = TypeVar("T", bound="RateLimitDetails")


@_attrs_define
class RateLimitDetails:
    """Close's description of the rate limit that was hit."""

    message: str
    """ A human-readable explanation. """
    rate_reset: float
    """ Seconds to wait before retrying. """
    rate_limit: int | Unset = UNSET
    """ Requests allowed per window. """
    rate_window: float | Unset = UNSET
    """ The window in seconds. """
    rate_limit_type: str | Unset = UNSET
    """ Whether the limit is per API `key` or per `organization`. """
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        message = self.message

        rate_reset = self.rate_reset

        rate_limit = self.rate_limit

        rate_window = self.rate_window

        rate_limit_type = self.rate_limit_type

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "message": message,
                "rate_reset": rate_reset,
            }
        )
        if rate_limit is not UNSET:
            field_dict["rate_limit"] = rate_limit
        if rate_window is not UNSET:
            field_dict["rate_window"] = rate_window
        if rate_limit_type is not UNSET:
            field_dict["rate_limit_type"] = rate_limit_type

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        message = d.pop("message")

        rate_reset = d.pop("rate_reset")

        rate_limit = d.pop("rate_limit", UNSET)

        rate_window = d.pop("rate_window", UNSET)

        rate_limit_type = d.pop("rate_limit_type", UNSET)

        rate_limit_details = cls(
            message=message,
            rate_reset=rate_reset,
            rate_limit=rate_limit,
            rate_window=rate_window,
            rate_limit_type=rate_limit_type,
        )

        rate_limit_details.additional_properties = d
        return rate_limit_details

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
