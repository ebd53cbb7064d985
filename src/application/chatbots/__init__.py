"""Chatbots: configuration versions, owners, discovery, intake."""
