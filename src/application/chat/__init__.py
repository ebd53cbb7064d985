"""Conversations and chat: answering a visitor's question from a chatbot's sources."""
