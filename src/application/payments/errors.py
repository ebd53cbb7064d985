"""Errors of the payment processor boundary.

Each class sits under the application error the HTTP table already maps, so a webhook endpoint
answers the way processors expect without a table of its own:

| error                              | code                                | HTTP |
| ---------------------------------- | ----------------------------------- | ---- |
| `WebhookEndpointDisabled`          | `webhook-endpoint-disabled`         | 503  |
| `WebhookSignatureMissing`          | `webhook-signature-missing`         | 400  |
| `WebhookSignatureInvalid`          | `webhook-signature-invalid`         | 401  |
| `WebhookTimestampOutOfTolerance`   | `webhook-timestamp-out-of-tolerance`| 401  |
| `WebhookPayloadInvalid`            | `webhook-payload-invalid`           | 400  |
| `PaymentNotFound`                  | `payment-not-found`                 | 404  |
| `PaymentProcessorRejected`         | `payment-processor-rejected`        | 409  |
| `PaymentProcessorUnavailable`      | `payment-processor-unavailable`     | 502  |
| `PayoutsNotSupported`              | `payouts-not-supported`             | 503  |
| `CaptureNotSupported`              | `capture-not-supported`             | 409  |
"""

from __future__ import annotations

from application.errors import (
    ApplicationError,
    Conflict,
    ExternalServiceError,
    NotAuthenticated,
    NotFound,
    ServiceUnavailable,
)


class WebhookEndpointDisabled(ServiceUnavailable):
    """No webhook secret is configured for this processor. An empty secret would make every
    HMAC trivially forgeable, so the endpoint refuses everything instead of accepting anything."""

    code = "webhook-endpoint-disabled"


class WebhookSignatureMissing(ApplicationError):
    """The request carries no signature header at all: not a processor delivery (400)."""

    code = "webhook-signature-missing"


class WebhookSignatureInvalid(NotAuthenticated):
    """The signature does not match the raw body under our secret, or cannot be read (401)."""

    code = "webhook-signature-invalid"


class WebhookTimestampOutOfTolerance(WebhookSignatureInvalid):
    """The signed timestamp is too far from now: a replayed (or badly delayed) delivery (401)."""

    code = "webhook-timestamp-out-of-tolerance"


class WebhookPayloadInvalid(ApplicationError):
    """The signature is good but the body is not an event we can read (400)."""

    code = "webhook-payload-invalid"


class PaymentNotFound(NotFound):
    """The processor has no payment (or refund, payout) by that id."""

    code = "payment-not-found"


class PaymentProcessorRejected(Conflict):
    """The processor understood the request and refused it: a refund larger than what is left,
    a payout to an account that cannot receive it, an amount the currency cannot express."""

    code = "payment-processor-rejected"


class PaymentProcessorUnavailable(ExternalServiceError):
    """The processor could not be reached or failed on its side; the call may be retried with
    the same idempotency key."""

    code = "payment-processor-unavailable"


class PayoutsNotSupported(ServiceUnavailable):
    """The configured processor cannot pay third parties (Paddle, Lemon Squeezy are merchants of
    record that pay only the platform); configure a payout processor that can."""

    code = "payouts-not-supported"


class CaptureNotSupported(Conflict):
    """The processor captures payments by itself; only processors that emit `CHECKOUT_APPROVED`
    events need `capture_checkout`."""

    code = "capture-not-supported"
