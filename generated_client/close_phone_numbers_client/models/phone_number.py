from __future__ import annotations

import datetime
from collections.abc import Mapping
from typing import Any, TypeVar, cast

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..models.carrier import Carrier
from ..models.carrier_type import CarrierType
from ..models.phone_number_type import PhoneNumberType
from ..types import UNSET, Unset

T = TypeVar("T", bound="PhoneNumber")


@_attrs_define
class PhoneNumber:
    """A phone number of the organization. Close may add properties at any time; clients
    keep unknown ones rather than failing.

    """

    id: str
    """ The phone number's id. """
    number: str
    """ The number in E.164 form. """
    number_formatted: str
    """ The number formatted for people, in international format. """
    country: None | str
    """ The two-letter ISO 3166-1 code of the number's country. """
    type_: PhoneNumberType | str
    """ How the number came to Close (an open set); a rented number is `internal`. """
    carrier: Carrier | None | str
    """ The carrier that provides the number (an open set). """
    carrier_type: CarrierType | None | str
    """ The kind of number (an open set). """
    sms_enabled: bool
    """ Whether the number can send and receive SMS. """
    mms_enabled: bool
    """ Whether the number can send and receive MMS. An MMS-capable number is SMS-capable. """
    is_premium: bool
    """ Whether the number costs more than the standard price. """
    is_verified: bool
    """ Whether the number has been verified. """
    is_group_number: bool
    """ Deprecated (2026-07-21; still returned, to be removed): whether the number was
    rented with `sharing: group`. Use `participants` and `participant_groups`.
     """
    user_id: None | str
    """ Deprecated (2026-07-21; still returned, to be removed): the user a personal number
    belongs to (its first assignee); null for a group number. Use `participants`.
     """
    organization_id: str
    """ The organization that rents the number. """
    label: None | str
    """ A name for the number shown in Close; null or empty when none was given. """
    address_id: None | str
    """ The address registered for the number, in countries that require one. """
    bundle_id: None | str
    """ The regulatory bundle the number was rented under. """
    last_billed_price: float | None
    """ The monthly price last billed for the number, in US dollars. """
    next_billing_on: datetime.datetime | None
    """ When the number will next be billed. """
    date_created: datetime.datetime
    """ When the number was rented. """
    date_updated: datetime.datetime
    """ When the number last changed. """
    supports_sms_to_countries: list[str]
    """ Countries (ISO 3166-1 codes) this number can text. """
    supports_mms_to_countries: list[str]
    """ Countries (ISO 3166-1 codes) this number can send MMS to. """
    forward_to: None | str | Unset = UNSET
    """ A number calls are forwarded to. """
    forward_to_formatted: None | str | Unset = UNSET
    """ The forwarding number formatted for people. """
    forward_to_enabled: bool | Unset = UNSET
    """ Whether calls are forwarded. """
    press_1_to_accept: bool | Unset = UNSET
    """ Whether a forwarded call must be accepted by pressing 1. """
    was_ported: bool | Unset = UNSET
    """ Whether the number was ported in from another carrier. """
    inbound_ring_duration: int | None | Unset = UNSET
    """ Seconds an inbound call rings before voicemail; null means 30. """
    voicemail_greeting_url: None | str | Unset = UNSET
    """ The address of the voicemail greeting recording. """
    participants: list[str] | Unset = UNSET
    """ The ids of the users the number is assigned to: the `assign_to` users of the
    request, or the requesting user. (Seed-era servers listed them for group numbers
    only.)
     """
    participant_groups: list[str] | Unset = UNSET
    """ The ids of the Groups the number is assigned to (at most 40, each a Group of the
    organization). Set through the phone number update endpoint, not this one, so a
    new number has none. Today's endpoint always returns it; it is not required so
    that clients keep reading answers of servers that predate it (2026-09-29).
     """
    phone_numbers: list[str] | Unset = UNSET
    """ The numbers of the users who share a group number. """
    phone_numbers_formatted: list[str] | Unset = UNSET
    """ Those numbers formatted for people. """
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        id = self.id

        number = self.number

        number_formatted = self.number_formatted

        country: None | str
        country = self.country

        type_: str
        if isinstance(self.type_, PhoneNumberType):
            type_ = self.type_.value
        else:
            type_ = self.type_

        carrier: None | str
        if isinstance(self.carrier, Carrier):
            carrier = self.carrier.value
        else:
            carrier = self.carrier

        carrier_type: None | str
        if isinstance(self.carrier_type, CarrierType):
            carrier_type = self.carrier_type.value
        else:
            carrier_type = self.carrier_type

        sms_enabled = self.sms_enabled

        mms_enabled = self.mms_enabled

        is_premium = self.is_premium

        is_verified = self.is_verified

        is_group_number = self.is_group_number

        user_id: None | str
        user_id = self.user_id

        organization_id = self.organization_id

        label: None | str
        label = self.label

        address_id: None | str
        address_id = self.address_id

        bundle_id: None | str
        bundle_id = self.bundle_id

        last_billed_price: float | None
        last_billed_price = self.last_billed_price

        next_billing_on: None | str
        if isinstance(self.next_billing_on, datetime.datetime):
            next_billing_on = self.next_billing_on.isoformat()
        else:
            next_billing_on = self.next_billing_on

        date_created = self.date_created.isoformat()

        date_updated = self.date_updated.isoformat()

        supports_sms_to_countries = self.supports_sms_to_countries

        supports_mms_to_countries = self.supports_mms_to_countries

        forward_to: None | str | Unset
        if isinstance(self.forward_to, Unset):
            forward_to = UNSET
        else:
            forward_to = self.forward_to

        forward_to_formatted: None | str | Unset
        if isinstance(self.forward_to_formatted, Unset):
            forward_to_formatted = UNSET
        else:
            forward_to_formatted = self.forward_to_formatted

        forward_to_enabled = self.forward_to_enabled

        press_1_to_accept = self.press_1_to_accept

        was_ported = self.was_ported

        inbound_ring_duration: int | None | Unset
        if isinstance(self.inbound_ring_duration, Unset):
            inbound_ring_duration = UNSET
        else:
            inbound_ring_duration = self.inbound_ring_duration

        voicemail_greeting_url: None | str | Unset
        if isinstance(self.voicemail_greeting_url, Unset):
            voicemail_greeting_url = UNSET
        else:
            voicemail_greeting_url = self.voicemail_greeting_url

        participants: list[str] | Unset = UNSET
        if not isinstance(self.participants, Unset):
            participants = self.participants

        participant_groups: list[str] | Unset = UNSET
        if not isinstance(self.participant_groups, Unset):
            participant_groups = self.participant_groups

        phone_numbers: list[str] | Unset = UNSET
        if not isinstance(self.phone_numbers, Unset):
            phone_numbers = self.phone_numbers

        phone_numbers_formatted: list[str] | Unset = UNSET
        if not isinstance(self.phone_numbers_formatted, Unset):
            phone_numbers_formatted = self.phone_numbers_formatted

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "id": id,
                "number": number,
                "number_formatted": number_formatted,
                "country": country,
                "type": type_,
                "carrier": carrier,
                "carrier_type": carrier_type,
                "sms_enabled": sms_enabled,
                "mms_enabled": mms_enabled,
                "is_premium": is_premium,
                "is_verified": is_verified,
                "is_group_number": is_group_number,
                "user_id": user_id,
                "organization_id": organization_id,
                "label": label,
                "address_id": address_id,
                "bundle_id": bundle_id,
                "last_billed_price": last_billed_price,
                "next_billing_on": next_billing_on,
                "date_created": date_created,
                "date_updated": date_updated,
                "supports_sms_to_countries": supports_sms_to_countries,
                "supports_mms_to_countries": supports_mms_to_countries,
            }
        )
        if forward_to is not UNSET:
            field_dict["forward_to"] = forward_to
        if forward_to_formatted is not UNSET:
            field_dict["forward_to_formatted"] = forward_to_formatted
        if forward_to_enabled is not UNSET:
            field_dict["forward_to_enabled"] = forward_to_enabled
        if press_1_to_accept is not UNSET:
            field_dict["press_1_to_accept"] = press_1_to_accept
        if was_ported is not UNSET:
            field_dict["was_ported"] = was_ported
        if inbound_ring_duration is not UNSET:
            field_dict["inbound_ring_duration"] = inbound_ring_duration
        if voicemail_greeting_url is not UNSET:
            field_dict["voicemail_greeting_url"] = voicemail_greeting_url
        if participants is not UNSET:
            field_dict["participants"] = participants
        if participant_groups is not UNSET:
            field_dict["participant_groups"] = participant_groups
        if phone_numbers is not UNSET:
            field_dict["phone_numbers"] = phone_numbers
        if phone_numbers_formatted is not UNSET:
            field_dict["phone_numbers_formatted"] = phone_numbers_formatted

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        id = d.pop("id")

        number = d.pop("number")

        number_formatted = d.pop("number_formatted")

        def _parse_country(data: object) -> None | str:
            if data is None:
                return data
            return cast(None | str, data)

        country = _parse_country(d.pop("country"))

        def _parse_type_(data: object) -> PhoneNumberType | str:
            try:
                if not isinstance(data, str):
                    raise TypeError()
                type_type_0 = PhoneNumberType(data)

                return type_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(PhoneNumberType | str, data)

        type_ = _parse_type_(d.pop("type"))

        def _parse_carrier(data: object) -> Carrier | None | str:
            if data is None:
                return data
            try:
                if not isinstance(data, str):
                    raise TypeError()
                carrier_type_0 = Carrier(data)

                return carrier_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(Carrier | None | str, data)

        carrier = _parse_carrier(d.pop("carrier"))

        def _parse_carrier_type(data: object) -> CarrierType | None | str:
            if data is None:
                return data
            try:
                if not isinstance(data, str):
                    raise TypeError()
                carrier_type_type_0 = CarrierType(data)

                return carrier_type_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(CarrierType | None | str, data)

        carrier_type = _parse_carrier_type(d.pop("carrier_type"))

        sms_enabled = d.pop("sms_enabled")

        mms_enabled = d.pop("mms_enabled")

        is_premium = d.pop("is_premium")

        is_verified = d.pop("is_verified")

        is_group_number = d.pop("is_group_number")

        def _parse_user_id(data: object) -> None | str:
            if data is None:
                return data
            return cast(None | str, data)

        user_id = _parse_user_id(d.pop("user_id"))

        organization_id = d.pop("organization_id")

        def _parse_label(data: object) -> None | str:
            if data is None:
                return data
            return cast(None | str, data)

        label = _parse_label(d.pop("label"))

        def _parse_address_id(data: object) -> None | str:
            if data is None:
                return data
            return cast(None | str, data)

        address_id = _parse_address_id(d.pop("address_id"))

        def _parse_bundle_id(data: object) -> None | str:
            if data is None:
                return data
            return cast(None | str, data)

        bundle_id = _parse_bundle_id(d.pop("bundle_id"))

        def _parse_last_billed_price(data: object) -> float | None:
            if data is None:
                return data
            return cast(float | None, data)

        last_billed_price = _parse_last_billed_price(d.pop("last_billed_price"))

        def _parse_next_billing_on(data: object) -> datetime.datetime | None:
            if data is None:
                return data
            try:
                if not isinstance(data, str):
                    raise TypeError()
                next_billing_on_type_0 = datetime.datetime.fromisoformat(data)

                return next_billing_on_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(datetime.datetime | None, data)

        next_billing_on = _parse_next_billing_on(d.pop("next_billing_on"))

        date_created = datetime.datetime.fromisoformat(d.pop("date_created"))

        date_updated = datetime.datetime.fromisoformat(d.pop("date_updated"))

        supports_sms_to_countries = cast(list[str], d.pop("supports_sms_to_countries"))

        supports_mms_to_countries = cast(list[str], d.pop("supports_mms_to_countries"))

        def _parse_forward_to(data: object) -> None | str | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(None | str | Unset, data)

        forward_to = _parse_forward_to(d.pop("forward_to", UNSET))

        def _parse_forward_to_formatted(data: object) -> None | str | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(None | str | Unset, data)

        forward_to_formatted = _parse_forward_to_formatted(d.pop("forward_to_formatted", UNSET))

        forward_to_enabled = d.pop("forward_to_enabled", UNSET)

        press_1_to_accept = d.pop("press_1_to_accept", UNSET)

        was_ported = d.pop("was_ported", UNSET)

        def _parse_inbound_ring_duration(data: object) -> int | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(int | None | Unset, data)

        inbound_ring_duration = _parse_inbound_ring_duration(d.pop("inbound_ring_duration", UNSET))

        def _parse_voicemail_greeting_url(data: object) -> None | str | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(None | str | Unset, data)

        voicemail_greeting_url = _parse_voicemail_greeting_url(d.pop("voicemail_greeting_url", UNSET))

        participants = cast(list[str], d.pop("participants", UNSET))

        participant_groups = cast(list[str], d.pop("participant_groups", UNSET))

        phone_numbers = cast(list[str], d.pop("phone_numbers", UNSET))

        phone_numbers_formatted = cast(list[str], d.pop("phone_numbers_formatted", UNSET))

        phone_number = cls(
            id=id,
            number=number,
            number_formatted=number_formatted,
            country=country,
            type_=type_,
            carrier=carrier,
            carrier_type=carrier_type,
            sms_enabled=sms_enabled,
            mms_enabled=mms_enabled,
            is_premium=is_premium,
            is_verified=is_verified,
            is_group_number=is_group_number,
            user_id=user_id,
            organization_id=organization_id,
            label=label,
            address_id=address_id,
            bundle_id=bundle_id,
            last_billed_price=last_billed_price,
            next_billing_on=next_billing_on,
            date_created=date_created,
            date_updated=date_updated,
            supports_sms_to_countries=supports_sms_to_countries,
            supports_mms_to_countries=supports_mms_to_countries,
            forward_to=forward_to,
            forward_to_formatted=forward_to_formatted,
            forward_to_enabled=forward_to_enabled,
            press_1_to_accept=press_1_to_accept,
            was_ported=was_ported,
            inbound_ring_duration=inbound_ring_duration,
            voicemail_greeting_url=voicemail_greeting_url,
            participants=participants,
            participant_groups=participant_groups,
            phone_numbers=phone_numbers,
            phone_numbers_formatted=phone_numbers_formatted,
        )

        phone_number.additional_properties = d
        return phone_number

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
