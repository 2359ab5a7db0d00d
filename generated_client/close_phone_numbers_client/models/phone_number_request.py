from __future__ import annotations

import warnings
from collections.abc import Mapping
from typing import Any, TypeVar, cast

from attrs import define as _attrs_define

from ..models.requested_carrier_type import RequestedCarrierType
from ..models.sharing import Sharing
from ..types import UNSET, Unset

T = TypeVar("T", bound="PhoneNumberRequest")


@_attrs_define
class PhoneNumberRequest:
    """What kind of number to rent, and for whom. Unknown properties are refused.
    `with_mms: true` needs `with_sms: true` as well (an MMS-capable number is always
    SMS-capable).

    """

    country: str
    """ The two-letter ISO 3166-1 code of the country to rent in, in capitals (e.g. `US`). """
    sharing: Sharing | Unset = UNSET
    """ Deprecated (2026-07-21): Close is retiring the personal/group distinction and will remove
    `sharing`. Omitted, it means `personal` (a number of one user); a group number still
    needs `group`.
     """
    assign_to: list[str] | Unset = UNSET
    """ The ids of the users the new number is assigned to. Omitted: the requesting user.
    Assigning to anyone else needs the "Manage Team Phone Numbers" permission (else
    `403`), and every listed user must be an active member of the organization who is
    allowed to make calls (else `400` with `field-errors.assign_to`). An empty list is
    refused: a number is assigned to at least one user.
     """
    bundle_id: None | str | Unset = UNSET
    """ The id of an approved regulatory bundle (documents such as a proof of address) that
    countries outside the US and Canada often require.
     """
    carrier_type: None | RequestedCarrierType | Unset = UNSET
    """ The kind of number wanted. Omitted or null means any kind. """
    prefix: str | Unset = ""
    """ The prefix or area code the number starts with, without the country calling code (e.g. `650`). """
    with_mms: bool | None | Unset = UNSET
    """ By default an MMS-capable number is rented where Close supports MMS (US and
    Canada). `true` forces an MMS-capable number and needs `with_sms: true` too;
    `false` also allows prefixes without MMS. Usually not passed.
     """
    with_sms: bool | None | Unset = UNSET
    """ By default an SMS-capable number is rented where Close supports SMS. `true` forces
    an SMS-capable number; `false` also allows numbers without SMS. Usually only sent
    after a `has-voice-only` refusal.
     """

    def __attrs_post_init__(self) -> None:
        if isinstance(self.sharing, str) and not isinstance(self.sharing, Sharing):
            self.sharing = Sharing(self.sharing)
        if not isinstance(self.sharing, Unset):
            warnings.warn(
                "`sharing`: Deprecated (2026-07-21): Close is retiring the personal/group distinction and will remove `sharing`. Omitted, it means `personal` (a number of one user); a group number still needs `group`.",
                DeprecationWarning,
                stacklevel=3,
            )

    def to_dict(self) -> dict[str, Any]:
        country = self.country

        sharing: str | Unset = UNSET
        if not isinstance(self.sharing, Unset):
            sharing = self.sharing.value

        assign_to: list[str] | Unset = UNSET
        if not isinstance(self.assign_to, Unset):
            assign_to = self.assign_to

        bundle_id: None | str | Unset
        if isinstance(self.bundle_id, Unset):
            bundle_id = UNSET
        else:
            bundle_id = self.bundle_id

        carrier_type: None | str | Unset
        if isinstance(self.carrier_type, Unset):
            carrier_type = UNSET
        elif isinstance(self.carrier_type, RequestedCarrierType):
            carrier_type = self.carrier_type.value
        else:
            carrier_type = self.carrier_type

        prefix = self.prefix

        with_mms: bool | None | Unset
        if isinstance(self.with_mms, Unset):
            with_mms = UNSET
        else:
            with_mms = self.with_mms

        with_sms: bool | None | Unset
        if isinstance(self.with_sms, Unset):
            with_sms = UNSET
        else:
            with_sms = self.with_sms

        field_dict: dict[str, Any] = {}

        field_dict.update(
            {
                "country": country,
            }
        )
        if sharing is not UNSET:
            field_dict["sharing"] = sharing
        if assign_to is not UNSET:
            field_dict["assign_to"] = assign_to
        if bundle_id is not UNSET:
            field_dict["bundle_id"] = bundle_id
        if carrier_type is not UNSET:
            field_dict["carrier_type"] = carrier_type
        if prefix is not UNSET:
            field_dict["prefix"] = prefix
        if with_mms is not UNSET:
            field_dict["with_mms"] = with_mms
        if with_sms is not UNSET:
            field_dict["with_sms"] = with_sms

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        country = d.pop("country")

        _sharing = d.pop("sharing", UNSET)
        sharing: Sharing | Unset
        if isinstance(_sharing, Unset):
            sharing = UNSET
        else:
            sharing = Sharing(_sharing)

        assign_to = cast(list[str], d.pop("assign_to", UNSET))

        def _parse_bundle_id(data: object) -> None | str | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(None | str | Unset, data)

        bundle_id = _parse_bundle_id(d.pop("bundle_id", UNSET))

        def _parse_carrier_type(data: object) -> None | RequestedCarrierType | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            try:
                if not isinstance(data, str):
                    raise TypeError()
                carrier_type_type_0 = RequestedCarrierType(data)

                return carrier_type_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(None | RequestedCarrierType | Unset, data)

        carrier_type = _parse_carrier_type(d.pop("carrier_type", UNSET))

        prefix = d.pop("prefix", UNSET)

        def _parse_with_mms(data: object) -> bool | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(bool | None | Unset, data)

        with_mms = _parse_with_mms(d.pop("with_mms", UNSET))

        def _parse_with_sms(data: object) -> bool | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(bool | None | Unset, data)

        with_sms = _parse_with_sms(d.pop("with_sms", UNSET))

        phone_number_request = cls(
            country=country,
            sharing=sharing,
            assign_to=assign_to,
            bundle_id=bundle_id,
            carrier_type=carrier_type,
            prefix=prefix,
            with_mms=with_mms,
            with_sms=with_sms,
        )

        return phone_number_request
