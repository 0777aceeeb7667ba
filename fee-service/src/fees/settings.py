"""Settings of the fee service: the kernel's, under the service's own name, and the e-government payment gateway
(ADR 0034)."""

from __future__ import annotations

from pydantic import Field, model_validator

from btkernel.settings import ServiceSettings

# The development placeholder of the payment gateway's key: published here, so refused in production.
DEV_PAYMENT_GATEWAY_SECRET = "dev-payment-gateway-secret-0123456789abcdef"
# HMAC-SHA256 wants a key at least as long as its output to be as strong as it (RFC 2104 §3).
MIN_SECRET_BYTES = 32


class FeeSettings(ServiceSettings):
    service_name: str = "fee"
    # The payment gateway (ПШЭП): its base URL, our merchant id there, the key of this deployment that signs our
    # requests and verifies its answers and callbacks (HMAC-SHA256), and the public callback URL on our gateway.
    # No URL: payments through the gateway are unavailable (503), everything else works.
    payment_gateway_url: str = ""
    payment_gateway_merchant: str = "bir-tereze"
    payment_gateway_secret: str = DEV_PAYMENT_GATEWAY_SECRET
    payment_callback_url: str = ""
    payment_gateway_timeout_s: float = Field(5.0, gt=0)
    # Lost callbacks (ADR 0034): a payment still `created` this long after it was made is asked about at the
    # gateway, then again after pauses doubling up to the maximum, for as long as `give_up` after its creation;
    # the sweep runs every `interval` (0: never, the manual status query remains).
    payment_status_after_s: float = Field(900.0, gt=0)
    payment_status_max_pause_s: float = Field(21_600.0, gt=0)
    payment_status_give_up_s: float = Field(7 * 86_400.0, gt=0)
    payment_status_interval_s: float = Field(30.0, ge=0)
    payment_status_batch: int = Field(50, ge=1, le=1000)
    # The largest bank statement accepted (camt.053 XML), in bytes.
    statement_max_bytes: int = 2_000_000

    @model_validator(mode="after")
    def _real_payment_key_in_production(self) -> FeeSettings:
        if (
            self.env == "production"
            and self.payment_gateway_url
            and (
                self.payment_gateway_secret == DEV_PAYMENT_GATEWAY_SECRET
                or len(self.payment_gateway_secret.encode()) < MIN_SECRET_BYTES
            )
        ):
            raise ValueError(
                "BT_PAYMENT_GATEWAY_SECRET must be this deployment's own key of at least "
                f"{MIN_SECRET_BYTES} bytes in production (the development placeholder is published)"
            )
        return self
