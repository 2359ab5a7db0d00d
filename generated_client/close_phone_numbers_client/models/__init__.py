"""Contains all the data models used in inputs/outputs"""

from .carrier import Carrier
from .carrier_type import CarrierType
from .deleted_phone_number import DeletedPhoneNumber
from .not_found import NotFound
from .phone_number import PhoneNumber
from .phone_number_request import PhoneNumberRequest
from .phone_number_type import PhoneNumberType
from .rate_limit_details import RateLimitDetails
from .rate_limited import RateLimited
from .refusal import Refusal
from .refusal_field_errors import RefusalFieldErrors
from .refusal_status import RefusalStatus
from .requested_carrier_type import RequestedCarrierType
from .sharing import Sharing

__all__ = (
    "Carrier",
    "CarrierType",
    "DeletedPhoneNumber",
    "NotFound",
    "PhoneNumber",
    "PhoneNumberRequest",
    "PhoneNumberType",
    "RateLimitDetails",
    "RateLimited",
    "Refusal",
    "RefusalFieldErrors",
    "RefusalStatus",
    "RequestedCarrierType",
    "Sharing",
)
