"""Chatbots: configuration versions, owners, sources, discovery."""

from __future__ import annotations

from dishka import Provider, Scope, provide

from adapters.persistence.repositories.chatbot_feedback import SqlFeedbackRepository
from adapters.persistence.repositories.chatbot_sources import SqlSourceDirectory
from adapters.persistence.repositories.discovery import SqlChatbotDiscovery
from adapters.persistence.repositories.intake import SqlIntakeRepository
from application.chatbots.add_owner import AddChatbotOwner
from application.chatbots.categorize_chatbot import CategorizeChatbot
from application.chatbots.change_owner_role import ChangeChatbotOwnerRole
from application.chatbots.chatbot_json_ld import GetChatbotJsonLd
from application.chatbots.create_chatbot import CreateChatbot
from application.chatbots.define_category import DefineCategory
from application.chatbots.define_intake_question import DefineIntakeQuestion
from application.chatbots.diff_versions import DiffChatbotVersions
from application.chatbots.discovery_ports import ChatbotDiscovery
from application.chatbots.favorite_chatbot import FavoriteChatbot
from application.chatbots.feedback_ports import FeedbackRepository
from application.chatbots.get_chatbot import GetChatbot
from application.chatbots.get_intake_form import GetIntakeForm
from application.chatbots.intake_ports import IntakeRepository
from application.chatbots.list_creator_chatbots import ListCreatorChatbots
from application.chatbots.list_favorites import ListFavorites
from application.chatbots.list_public_chatbots import ListPublicChatbots
from application.chatbots.list_versions import ListChatbotVersions
from application.chatbots.rate_conversation import RateConversation
from application.chatbots.remove_owner import RemoveChatbotOwner
from application.chatbots.report_chatbot import ReportChatbot
from application.chatbots.resolve_sources import ResolveChatbotSources
from application.chatbots.rollback_chatbot import RollbackChatbot
from application.chatbots.set_activity import SetChatbotActivity
from application.chatbots.set_visibility import SetChatbotVisibility
from application.chatbots.source_ports import SourceDirectory
from application.chatbots.submit_intake import SubmitIntake
from application.chatbots.update_chatbot import UpdateChatbot


class ChatbotsProvider(Provider):
    scope = Scope.REQUEST
    sources = provide(SqlSourceDirectory, provides=SourceDirectory)
    create = provide(CreateChatbot)
    update = provide(UpdateChatbot)
    visibility = provide(SetChatbotVisibility)
    activity = provide(SetChatbotActivity)
    rollback = provide(RollbackChatbot)
    diff = provide(DiffChatbotVersions)
    versions = provide(ListChatbotVersions)
    get = provide(GetChatbot)
    add_owner = provide(AddChatbotOwner)
    change_owner_role = provide(ChangeChatbotOwnerRole)
    remove_owner = provide(RemoveChatbotOwner)
    resolve_sources = provide(ResolveChatbotSources)
    discovery = provide(SqlChatbotDiscovery, provides=ChatbotDiscovery)
    list_public = provide(ListPublicChatbots)
    favorite = provide(FavoriteChatbot)
    favorites = provide(ListFavorites)
    categorize = provide(CategorizeChatbot)
    define_category = provide(DefineCategory)
    json_ld = provide(GetChatbotJsonLd)
    creator_chatbots = provide(ListCreatorChatbots)
    feedback = provide(SqlFeedbackRepository, provides=FeedbackRepository)
    rate = provide(RateConversation)
    report = provide(ReportChatbot)
    intake = provide(SqlIntakeRepository, provides=IntakeRepository)
    define_intake_question = provide(DefineIntakeQuestion)
    intake_form = provide(GetIntakeForm)
    submit_intake = provide(SubmitIntake)
