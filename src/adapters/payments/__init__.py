"""Payment processor adapters: one `PaymentGateway` per processor (Stripe, Paddle, Lemon Squeezy,
PayPal through their official SDKs or APIs, and the offline sandbox processor)."""
