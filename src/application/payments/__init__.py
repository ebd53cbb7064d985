"""Payments: the processor-neutral port (`PaymentGateway`) and the pure helpers every adapter
shares (amount conversions, the fee model, timestamped webhook signatures, webhook errors)."""
