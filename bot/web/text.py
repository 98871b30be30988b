"""The web chat's own words in French, English and Japanese, and the choice of the interface language.

The bot's sentences (not in the documents, empty or over-long question…) stay in ``bot.language.MESSAGES``;
this module only holds what the web page itself says, so that a translator finds it in one place.
"""

from __future__ import annotations

import re

from bot.language import LANGUAGES, localised

UI_LANGUAGES = LANGUAGES
DEFAULT_LANGUAGE = "en"
#: Each language named in itself, as a user looking for their own language expects.
LANGUAGE_LABELS: dict[str, str] = {"fr": "Français", "en": "English", "ja": "日本語"}

TEXTS: dict[str, dict[str, str]] = {
    "title": {
        "fr": "Corridor Bot — LifeScience Corridor France",
        "en": "Corridor Bot — LifeScience Corridor France",
        "ja": "Corridor Bot — LifeScience Corridor France",
    },
    "description": {
        "fr": "Questions sur le LifeScience Corridor France et ses partenaires, avec des réponses tirées des "
        "documents de presse. Posez vos questions en français, en anglais ou en japonais.",
        "en": "Questions about the LifeScience Corridor France and its partners, answered from the press "
        "documents. Ask in English, French or Japanese.",
        "ja": "LifeScience Corridor France とそのパートナーについて、プレス資料に基づいてお答えします。"
        "日本語・英語・フランス語で質問できます。",
    },
    "ui_language": {"fr": "Langue de l'interface", "en": "Interface language", "ja": "表示言語"},
    "answer_language": {"fr": "Langue des réponses", "en": "Answer language", "ja": "回答の言語"},
    "answer_auto": {"fr": "Celle de la question", "en": "Same as the question", "ja": "質問と同じ"},
    "chatbot": {"fr": "Conversation", "en": "Conversation", "ja": "会話"},
    "placeholder": {
        "fr": "Votre question (français, anglais ou japonais)…",
        "en": "Your question (English, French or Japanese)…",
        "ja": "質問を入力してください（日本語・英語・フランス語）…",
    },
    "footer": {
        "fr": "Les réponses ne s'appuient que sur les documents de presse et citent leurs passages [1], [2]… "
        "Sous chaque réponse, 👍 / 👎 pour dire si elle vous a été utile.",
        "en": "Answers come only from the press documents and cite their passages [1], [2]… "
        "Use 👍 / 👎 under an answer to tell us whether it helped.",
        "ja": "回答はプレス資料のみに基づき、引用箇所を [1]、[2]… で示します。"
        "回答の下の 👍 / 👎 で、役に立ったかどうかをお知らせください。",
    },
    # Sources panel under each answer
    "sources": {"fr": "Sources", "en": "Sources", "ja": "出典"},
    "open_document": {"fr": "Ouvrir le document", "en": "Open the document", "ja": "文書全体を開く"},
    "also_consulted": {"fr": "Autres passages consultés", "en": "Also consulted", "ja": "その他の参照箇所"},
    # While the answer is on its way (its sources are already shown)
    "writing": {"fr": "Rédaction de la réponse…", "en": "Writing the answer…", "ja": "回答を作成しています…"},
    "queue_next": {
        "fr": "Votre question est la prochaine.",
        "en": "Your question is next.",
        "ja": "次にあなたの質問に回答します。",
    },
    "queue_ahead": {
        "fr": "{count} question(s) avant la vôtre.",
        "en": "{count} question(s) before yours.",
        "ja": "あなたの前に {count} 件の質問があります。",
    },
    # Input checks and failures
    "error": {
        "fr": "Désolé, la réponse n'a pas pu être préparée ({error}). Réessayez dans un instant.",
        "en": "Sorry, the answer could not be prepared ({error}). Please try again in a moment.",
        "ja": "申し訳ありません。回答を作成できませんでした（{error}）。しばらくしてからもう一度お試しください。",
    },
    # Feedback
    "feedback_helpful": {
        "fr": "Merci ! Votre avis « utile » est enregistré. Un commentaire ? (facultatif)",
        "en": "Thank you! Your “helpful” vote is saved. Anything to add? (optional)",
        "ja": "ありがとうございます。「役に立った」を記録しました。コメントがあればどうぞ（任意）。",
    },
    "feedback_not_helpful": {
        "fr": "Merci ! Votre avis « pas utile » est enregistré. Qu'est-ce qui n'allait pas ? (facultatif)",
        "en": "Thank you! Your “not helpful” vote is saved. What was wrong? (optional)",
        "ja": "ありがとうございます。「役に立たなかった」を記録しました。問題点があればお書きください（任意）。",
    },
    "feedback_comment": {"fr": "Commentaire (facultatif)", "en": "Comment (optional)", "ja": "コメント（任意）"},
    "feedback_send": {"fr": "Envoyer le commentaire", "en": "Send the comment", "ja": "コメントを送信"},
    "feedback_saved": {
        "fr": "Merci, votre commentaire est enregistré.",
        "en": "Thank you, your comment is saved.",
        "ja": "コメントを記録しました。ありがとうございます。",
    },
    "feedback_failed": {
        "fr": "Votre avis n'a pas pu être enregistré ({error}).",
        "en": "Your feedback could not be saved ({error}).",
        "ja": "フィードバックを保存できませんでした（{error}）。",
    },
    # Admin panel
    "admin": {"fr": "Administration", "en": "Administration", "ja": "管理"},
    "admin_token": {"fr": "Jeton d'administration", "en": "Admin token", "ja": "管理トークン"},
    "admin_files": {
        "fr": "Documents à ajouter ({extensions} ; {limit} Mo au maximum chacun)",
        "en": "Documents to add ({extensions}; at most {limit} MB each)",
        "ja": "追加する文書（{extensions}、1ファイル最大{limit} MB）",
    },
    "admin_upload": {"fr": "Ajouter et réindexer", "en": "Add and reindex", "ja": "追加して再インデックス"},
    "admin_reindex": {"fr": "Réindexer maintenant", "en": "Reindex now", "ja": "今すぐ再インデックス"},
    "admin_bad_token": {
        "fr": "Jeton d'administration incorrect : rien n'a été modifié.",
        "en": "Wrong admin token: nothing was changed.",
        "ja": "管理トークンが正しくありません。何も変更していません。",
    },
    "admin_no_files": {
        "fr": "Choisissez d'abord un ou plusieurs documents.",
        "en": "Choose one or more documents first.",
        "ja": "先に文書を選択してください。",
    },
    "upload_saved": {
        "fr": "✅ {name} : enregistré dans corpus/ sous le nom {stored}",
        "en": "✅ {name}: stored in corpus/ as {stored}",
        "ja": "✅ {name}：corpus/ に {stored} として保存しました",
    },
    "upload_unsupported": {
        "fr": "❌ {name} : type de fichier non pris en charge (acceptés : {extensions})",
        "en": "❌ {name}: unsupported file type (accepted: {extensions})",
        "ja": "❌ {name}：対応していないファイル形式です（対応形式：{extensions}）",
    },
    "upload_too_large": {
        "fr": "❌ {name} : fichier trop volumineux ({size} Mo ; {limit} Mo au maximum)",
        "en": "❌ {name}: file too large ({size} MB; at most {limit} MB)",
        "ja": "❌ {name}：ファイルが大きすぎます（{size} MB。上限は{limit} MB）",
    },
    "upload_unreadable": {
        "fr": "❌ {name} : fichier illisible ou endommagé, non enregistré",
        "en": "❌ {name}: the file is broken or cannot be read; not stored",
        "ja": "❌ {name}：ファイルが壊れているか読み取れないため、保存しませんでした",
    },
    "upload_empty": {
        "fr": "❌ {name} : le fichier ne contient pas de texte, non enregistré",
        "en": "❌ {name}: the file contains no text; not stored",
        "ja": "❌ {name}：テキストが含まれていないため、保存しませんでした",
    },
    "reindex_progress": {"fr": "Réindexation", "en": "Reindexing", "ja": "再インデックス中"},
    "reindex_done": {
        "fr": "Index à jour : {added} ajouté(s), {updated} modifié(s), {removed} retiré(s), {unchanged} inchangé(s).",
        "en": "Index up to date: {added} added, {updated} updated, {removed} removed, {unchanged} unchanged.",
        "ja": "インデックスを更新しました：追加 {added}、更新 {updated}、削除 {removed}、変更なし {unchanged}。",
    },
    "reindex_skipped": {
        "fr": "⚠️ {name} ignoré : {reason}",
        "en": "⚠️ {name} skipped: {reason}",
        "ja": "⚠️ {name} はスキップされました：{reason}",
    },
    "reindex_busy": {
        "fr": "Une réindexation est déjà en cours ; cliquez sur « Réindexer maintenant » dans un instant.",
        "en": "Another reindex is running; click “Reindex now” again in a moment.",
        "ja": "別の再インデックスが実行中です。少し待ってから「今すぐ再インデックス」を押してください。",
    },
    "reindex_failed": {
        "fr": "La réindexation a échoué : {error}",
        "en": "The reindex failed: {error}",
        "ja": "再インデックスに失敗しました：{error}",
    },
}


def text(key: str, language: str | None, **values: object) -> str:
    """The page's sentence ``key`` in ``language`` (English when unknown), with ``values`` filled in."""
    return localised(TEXTS, key, language, **values)


def _accepted(header: str) -> list[str]:
    """Language tags of an Accept-Language header, most wanted first."""
    weighted = []
    for position, part in enumerate(header.split(",")):
        tag, _, params = part.strip().partition(";")
        match = re.search(r"q=([0-9.]+)", params)
        try:
            weight = float(match.group(1)) if match else 1.0
        except ValueError:
            weight = 0.0
        if tag and weight > 0:
            weighted.append((-weight, position, tag))
    return [tag for _, _, tag in sorted(weighted)]


def pick_language(*wishes: str | None) -> str:
    """The first supported language among ``wishes`` (a tag such as "ja-JP", or a whole Accept-Language header).

    Called with the ``?lang=`` parameter, the saved choice and the browser's languages, in that order.
    """
    for wish in wishes:
        for tag in _accepted(wish or ""):
            primary = tag.split("-")[0].split("_")[0].lower()
            if primary in UI_LANGUAGES:
                return primary
    return DEFAULT_LANGUAGE


def language_choices() -> list[tuple[str, str]]:
    """(label, value) pairs for the interface-language switch, each language named in itself."""
    return [(LANGUAGE_LABELS[code], code) for code in UI_LANGUAGES]


def answer_language_choices(language: str) -> list[tuple[str, str]]:
    """(label, value) pairs for forcing the answer language; "auto" follows the question."""
    return [(text("answer_auto", language), "auto"), *language_choices()]
