"""The FAQ bot: a knowledge base from config/faq, retrieval and the answer-or-hand-off decision."""
