"""Answer models: Anthropic and OpenAI through their official SDKs, the offline extractive
model, a fallback wrapper and a scripted model for tests and demos."""
