"""The template language codes CAMS accepts (reference §7).

Case-sensitive, with an underscore. Meta knows more regional variants (``ar_EG``, ``en_IN``...),
but CAMS lists only these 68.
"""

from typing import Final

from camsconsole.cams.rules.codes import LANGUAGE_NOT_SUPPORT, RuleError

LANGUAGE_CODES: Final[dict[str, str]] = {
    "af": "Afrikaans",
    "sq": "Albanian",
    "ar": "Arabic",
    "az": "Azerbaijani",
    "bn": "Bengali",
    "bg": "Bulgarian",
    "ca": "Catalan",
    "hr": "Croatian",
    "cs": "Czech",
    "da": "Danish",
    "nl": "Dutch",
    "en": "English",
    "en_GB": "English (UK)",
    "en_US": "English (US)",
    "et": "Estonian",
    "fil": "Filipino",
    "fi": "Finnish",
    "fr": "French",
    "de": "German",
    "el": "Greek",
    "gu": "Gujarati",
    "ha": "Hausa",
    "he": "Hebrew",
    "hi": "Hindi",
    "hu": "Hungarian",
    "id": "Indonesian",
    "ga": "Irish",
    "it": "Italian",
    "ja": "Japanese",
    "kn": "Kannada",
    "kk": "Kazakh",
    "ko": "Korean",
    "lo": "Lao",
    "lv": "Latvian",
    "lt": "Lithuanian",
    "mk": "Macedonian",
    "ms": "Malay",
    "ml": "Malayalam",
    "mr": "Marathi",
    "nb": "Norwegian",
    "fa": "Persian",
    "pl": "Polish",
    "pt_BR": "Portuguese (Brazil)",
    "pt_PT": "Portuguese (Portugal)",
    "pa": "Punjabi",
    "ro": "Romanian",
    "ru": "Russian",
    "sr": "Serbian",
    "zh_CN": "Chinese (simplified, mainland)",
    "sk": "Slovak",
    "sl": "Slovenian",
    "es": "Spanish",
    "es_AR": "Spanish (Argentina)",
    "es_MX": "Spanish (Mexico)",
    "es_ES": "Spanish (Spain)",
    "sw": "Swahili",
    "sv": "Swedish",
    "ta": "Tamil",
    "te": "Telugu",
    "th": "Thai",
    "zh_HK": "Chinese (traditional, Hong Kong)",
    "zh_TW": "Chinese (traditional, Taiwan)",
    "tr": "Turkish",
    "uk": "Ukrainian",
    "ur": "Urdu",
    "uz": "Uzbek",
    "vi": "Vietnamese",
    "zu": "Zulu",
}


def check_language(value: str, field: str = "Language") -> RuleError | None:
    """Refuse a language code CAMS does not list, suggesting the listed spelling if it is a near
    miss (``en-US`` or ``EN_us`` for ``en_US``)."""
    if value in LANGUAGE_CODES:
        return None
    message = f"{value!r} is not a CAMS language code."
    folded = value.replace("-", "_").lower()
    near = [code for code in LANGUAGE_CODES if code.lower() == folded]
    if near:
        message += f" Write it as {near[0]!r}."
    return RuleError(LANGUAGE_NOT_SUPPORT, message, field)
