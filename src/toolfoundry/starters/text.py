"""Plain-text utilities for agents: counts, keywords, regex search and replace, slugs, truncation,
wrapping, similarity and extraction of emails, URLs and numbers; works on Chinese text too."""

import re
import textwrap
import unicodedata
from collections import Counter
from typing import Annotated

import regex
from pydantic import BaseModel, Field
from rapidfuzz import fuzz

from toolfoundry.registry.decorator import tool
from toolfoundry.starters._patterns import compile_pattern, pattern_budget

# Most characters one regex_replace may add: 10 MiB of text is plenty for an agent.
_MAX_REPLACED_CHARS = 10_000_000
# Edit similarity costs len(a) * len(b): two 100k-character texts take a fraction of a second.
_MAX_COMPARED_CHARS = 100_000
# Scripts written without spaces between words: every character counts as one word.
_CJK = "\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"
_CJK_CHAR = re.compile(f"[{_CJK}]")
_TOKEN = re.compile(rf"[{_CJK}]|[^\W_{_CJK}]+(?:['’\-][^\W_{_CJK}]+)*")
_CJK_RUN = re.compile(f"[{_CJK}]+")
_SENTENCE_END = re.compile(r"[.!?]+['\"”’)\]]*(?=\s|$)|[。！？!?]+[」』”’）]*")

_STOPWORD_TEXT = """
    a about above after again against all also am an and any are aren't as at be because been
    before being below between both but by can can't cannot could couldn't did didn't do does
    doesn't doing don't down during each etc few for from further had hadn't has hasn't have
    haven't having he he'd he'll he's her here here's hers herself him himself his how how's i i'd
    i'll i'm i've if in into is isn't it it's its itself just let's like may me might more most
    much must mustn't my myself no nor not now of off on once only or other ought our ours
    ourselves out over own same shall shan't she she'd she'll she's should shouldn't so some such
    than that that's the their theirs them themselves then there there's these they they'd
    they'll they're they've this those through to too under until up upon us very via was wasn't
    we we'd we'll we're we've were weren't what what's when when's where where's which while who
    who's whom why why's will with won't would wouldn't yet you you'd you'll you're you've your
    yours yourself yourselves
"""
_STOPWORDS = frozenset(_STOPWORD_TEXT.split())
# Chinese function characters: runs of text are cut at them before looking for terms.
_CJK_STOP_CHARS = re.compile(
    "[的了是在和与及也就都而或这那之其有为以于对把被让从到很更最又还并但个一不我你他她它们吗呢吧啊着过地得等]"
)

_EMAIL = re.compile(r"[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}")
# URLs are taken as ASCII runs so that adjacent Chinese text and punctuation are not swallowed.
_URL = re.compile(r"(?:https?://|www\.)[A-Za-z0-9\-._~:/?#\[\]@!$&'()*+,;=%]+", re.IGNORECASE)
_URL_TRAILING = ".,;:!?'\"]"
_NUMBER = re.compile(
    r"(?<![A-Za-z0-9_.])[-+]?(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d+)?(?:[eE][-+]?\d+)?"
)


class TextStats(BaseModel):
    """Counts describing a text."""

    characters: int = Field(description="All characters, whitespace included.")
    characters_no_spaces: int
    words: int = Field(description="Words; each Chinese/Japanese character counts as one word.")
    cjk_characters: int = Field(description="Chinese, Japanese kana and Han characters.")
    sentences: int
    lines: int
    paragraphs: int = Field(description="Blocks of text separated by blank lines.")


class Keyword(BaseModel):
    """A frequent term of a text."""

    keyword: str
    count: int
    frequency: float = Field(description="count / number of candidate terms in the text.")


class RegexMatch(BaseModel):
    """One match of a regular expression."""

    text: str
    start: int
    end: int
    groups: list[str | None] = Field(description="Numbered capture groups, in order.")
    named_groups: dict[str, str | None]


class RegexMatches(BaseModel):
    """All matches of a regular expression in a text, up to a limit."""

    count: int = Field(description="Total number of matches.")
    matches: list[RegexMatch]
    truncated: bool


class RegexReplacement(BaseModel):
    """The result of a regex substitution."""

    text: str
    replacements: int


class Similarity(BaseModel):
    """How alike two texts are, from 0 (nothing shared) to 1 (identical)."""

    character_ratio: float = Field(
        description="Edit-based similarity of the character sequences (like difflib's ratio)."
    )
    word_order_insensitive_ratio: float = Field(
        description="The same after sorting the words, so reordered sentences still score high."
    )
    word_jaccard: float = Field(description="Shared words / all distinct words.")
    shared_words: list[str] = Field(description="Up to 20 words found in both texts.")


class ExtractedEntities(BaseModel):
    """Email addresses, URLs and numbers found in a text, in order of appearance."""

    emails: list[str]
    urls: list[str]
    numbers: list[int | float]


def _words(text: str) -> list[str]:
    return _TOKEN.findall(text)


def _cjk_terms(text: str, stopwords: frozenset[str]) -> Counter[str]:
    """Candidate terms of unspaced Chinese/Japanese text, found without a dictionary.

    Runs are cut at function characters; every 2-character sequence is a candidate, and 3- and
    4-character ones that repeat. A fragment seen exactly as often as a longer candidate holding
    it is only a part of that term (机器 in 机器学习) and is dropped.
    """
    counts: Counter[str] = Counter()
    for run in _CJK_RUN.findall(text):
        for segment in _CJK_STOP_CHARS.split(run):
            for n in (2, 3, 4):
                counts.update(segment[i : i + n] for i in range(len(segment) - n + 1))
    kept = {
        term: count
        for term, count in counts.items()
        if (len(term) == 2 or count > 1) and term not in stopwords
    }
    parts = {
        term[i : i + n]
        for term, count in kept.items()
        for n in range(2, len(term))
        for i in range(len(term) - n + 1)
        if kept.get(term[i : i + n]) == count
    }
    return Counter({term: count for term, count in kept.items() if term not in parts})


@tool(toolkit="text", tags=["count", "length", "statistics"])
def text_stats(text: str) -> TextStats:
    """Count the characters, words, sentences, lines and paragraphs of a text.

    Args:
        text: The text to measure.

    Returns:
        The counts; Chinese and Japanese characters each count as one word.
    """
    sentences = [s for s in _SENTENCE_END.split(text) if re.search(r"\w", s)]
    return TextStats(
        characters=len(text),
        characters_no_spaces=sum(not c.isspace() for c in text),
        words=len(_words(text)),
        cjk_characters=len(_CJK_CHAR.findall(text)),
        sentences=len(sentences),
        lines=len(text.splitlines()),
        paragraphs=len([p for p in re.split(r"\n\s*\n", text) if p.strip()]),
    )


@tool(toolkit="text", tags=["keywords", "topics", "frequency"])
def extract_keywords(
    text: str,
    top_n: int = 10,
    min_length: int = 3,
    extra_stopwords: list[str] | None = None,
) -> list[Keyword]:
    """Find the most frequent meaningful words of a text, ignoring common stopwords.

    Words are lower-cased; English stopwords and numbers are skipped. Chinese and Japanese text has
    no spaces, so its candidates are 2- to 4-character sequences between function characters
    (的, 是, 了 …), longer ones kept only when they repeat.

    Args:
        text: The text to analyse.
        top_n: Number of keywords to return.
        min_length: Minimum length of a word (in characters) for space-separated scripts.
        extra_stopwords: Further words to ignore, e.g. domain words that occur everywhere.

    Returns:
        Keywords by descending count, each with its share of all candidate terms.
    """
    if top_n < 1:
        raise ValueError(f"top_n must be at least 1, got {top_n}")
    stopwords = _STOPWORDS | {w.casefold() for w in extra_stopwords or []}
    terms: list[str] = []
    for token in _words(text.casefold().replace("’", "'")):
        if _CJK_CHAR.match(token):
            continue
        if len(token) >= min_length and token not in stopwords and not token.isdigit():
            terms.append(token)
    counts = Counter(terms) + _cjk_terms(text, stopwords)
    total = sum(counts.values())
    return [
        Keyword(keyword=term, count=count, frequency=round(count / total, 6))
        for term, count in counts.most_common(top_n)
    ]


@tool(toolkit="text", tags=["regex", "search", "match", "pattern"])
def regex_find_all(
    text: str,
    pattern: str,
    ignore_case: bool = False,
    multiline: bool = False,
    dot_all: bool = False,
    max_matches: int = 100,
) -> RegexMatches:
    """Find every match of a regular expression (Python syntax) in a text, with capture groups.

    Args:
        text: The text to search.
        pattern: The regular expression, e.g. "\\d{4}-\\d{2}-\\d{2}" for ISO dates.
        ignore_case: Match letters regardless of case.
        multiline: Let ^ and $ match at every line start and end.
        dot_all: Let . match newlines too.
        max_matches: Maximum number of matches to return.

    Returns:
        The total match count and the matches with their positions and groups.
    """
    compiled = compile_pattern(pattern, ignore_case, multiline, dot_all)
    matches: list[RegexMatch] = []
    count = 0
    with pattern_budget(pattern) as timeout:
        for match in compiled.finditer(text, concurrent=True, timeout=timeout):
            count += 1
            if len(matches) < max_matches:
                matches.append(
                    RegexMatch(
                        text=match.group(0),
                        start=match.start(),
                        end=match.end(),
                        groups=list(match.groups()),
                        named_groups=match.groupdict(),
                    )
                )
    return RegexMatches(count=count, matches=matches, truncated=count > len(matches))


@tool(toolkit="text", tags=["regex", "replace", "substitute", "pattern"])
def regex_replace(
    text: str,
    pattern: str,
    replacement: str,
    ignore_case: bool = False,
    multiline: bool = False,
    dot_all: bool = False,
    count: int = 0,
) -> RegexReplacement:
    """Replace the matches of a regular expression (Python syntax) in a text.

    Args:
        text: The text to change.
        pattern: The regular expression to find.
        replacement: The replacement; \\1 or \\g<name> insert captured groups.
        ignore_case: Match letters regardless of case.
        multiline: Let ^ and $ match at every line start and end.
        dot_all: Let . match newlines too.
        count: Maximum number of replacements; 0 replaces all.

    Returns:
        The new text and the number of replacements made.
    """
    if count < 0:
        raise ValueError(f"count must be 0 (all) or more, got {count}")
    compiled = compile_pattern(pattern, ignore_case, multiline, dot_all)
    produced = 0

    def expand(match: regex.Match[str]) -> str:
        # Counted as it grows: "" matches everywhere, so a long replacement could multiply
        # the text far past what any caller needs.
        nonlocal produced
        piece = match.expand(replacement)
        produced += len(piece)
        if produced > _MAX_REPLACED_CHARS:
            raise ValueError(
                f"the replacements add more than {_MAX_REPLACED_CHARS:,} characters; use a "
                "shorter replacement or a pattern that matches less often"
            )
        return piece

    try:
        with pattern_budget(pattern) as timeout:
            new_text, replaced = compiled.subn(
                expand, text, count=count, concurrent=True, timeout=timeout
            )
    except (regex.error, IndexError) as exc:
        raise ValueError(
            f"invalid replacement {replacement!r}: {exc}; the pattern has {compiled.groups} "
            f"group(s), and a literal backslash must be written as \\\\"
        ) from exc
    return RegexReplacement(text=new_text, replacements=replaced)


@tool(toolkit="text", tags=["slug", "url", "identifier"])
def slugify(
    text: str,
    separator: str = "-",
    lowercase: bool = True,
    ascii_only: bool = False,
    max_length: int | None = None,
) -> str:
    """Turn a text into a URL- and file-name-safe slug, e.g. "Crème Brûlée!" -> "creme-brulee".

    Accents are removed; letters of other scripts (e.g. Chinese) are kept unless `ascii_only`.

    Args:
        text: The text to turn into a slug.
        separator: What replaces spaces and punctuation.
        lowercase: Lower-case the slug.
        ascii_only: Drop every character that is not an ASCII letter or digit.
        max_length: Cut the slug to at most this many characters, at a separator if possible.

    Returns:
        The slug.
    """
    # NFKD splits accents off their letters; NFKC then recomposes scripts such as Hangul.
    decomposed = unicodedata.normalize("NFKD", text)
    stripped = "".join(c for c in decomposed if not unicodedata.combining(c))
    normalized = unicodedata.normalize("NFKC", stripped)
    if ascii_only:
        normalized = normalized.encode("ascii", "ignore").decode("ascii")
    if lowercase:
        normalized = normalized.lower()
    slug = separator.join(re.findall(r"[^\W_]+", normalized))
    if not slug:
        raise ValueError(
            f"{text!r} has no letters or digits to build a slug from"
            + ("; try ascii_only=False to keep non-Latin letters" if ascii_only else "")
        )
    if max_length is not None:
        if max_length < 1:
            raise ValueError(f"max_length must be at least 1, got {max_length}")
        if len(slug) > max_length:
            cut = slug[:max_length]
            boundary = cut.rfind(separator) if separator else -1
            slug = cut[:boundary] if boundary > 0 else cut
    return slug


@tool(toolkit="text", tags=["truncate", "shorten", "preview"])
def truncate_text(
    text: str,
    max_length: int,
    suffix: str = "…",
    word_boundary: bool = True,
) -> str:
    """Shorten a text to at most `max_length` characters, ending with a suffix such as "…".

    Args:
        text: The text to shorten.
        max_length: Maximum length of the result, suffix included.
        suffix: Appended when the text is cut.
        word_boundary: Cut at the last space rather than inside a word when one is close.

    Returns:
        The text unchanged if short enough, else the cut text plus the suffix.
    """
    if max_length <= len(suffix):
        raise ValueError(
            f"max_length ({max_length}) must be longer than the suffix {suffix!r} "
            f"({len(suffix)} characters)"
        )
    if len(text) <= max_length:
        return text
    cut = text[: max_length - len(suffix)]
    if word_boundary and not text[len(cut)].isspace():
        space = max(cut.rfind(" "), cut.rfind("\n"))
        # Only back up to a space in the second half; otherwise too much text would be lost.
        if space >= len(cut) // 2:
            cut = cut[:space]
    return cut.rstrip() + suffix


@tool(toolkit="text", tags=["wrap", "format", "lines", "width"])
def wrap_text(text: str, width: int = 80, break_long_words: bool = True) -> str:
    """Re-flow a text into lines of at most `width` characters, keeping paragraph breaks.

    Args:
        text: The text to wrap; blank lines separate paragraphs.
        width: Maximum line length in characters.
        break_long_words: Split words (and unspaced Chinese text) longer than `width`.

    Returns:
        The wrapped text.
    """
    if width < 1:
        raise ValueError(f"width must be at least 1, got {width}")
    paragraphs = re.split(r"\n\s*\n", text.strip())
    return "\n\n".join(
        textwrap.fill(paragraph, width=width, break_long_words=break_long_words)
        for paragraph in paragraphs
    )


@tool(toolkit="text", tags=["similarity", "compare", "fuzzy", "duplicate"], version="1.1.0")
def text_similarity(
    text_a: Annotated[str, Field(max_length=_MAX_COMPARED_CHARS)],
    text_b: Annotated[str, Field(max_length=_MAX_COMPARED_CHARS)],
    ignore_case: bool = True,
) -> Similarity:
    """Measure how similar two texts are (0 to 1), by characters and by shared words.

    Works for any language; Chinese characters count as words.

    Args:
        text_a: The first text.
        text_b: The second text.
        ignore_case: Treat upper- and lower-case letters as equal.

    Returns:
        Character ratio, word-order-insensitive ratio, word Jaccard index and shared words.
    """
    if ignore_case:
        text_a, text_b = text_a.casefold(), text_b.casefold()
    words_a, words_b = _words(text_a), _words(text_b)
    set_a, set_b = set(words_a), set(words_b)
    union = set_a | set_b
    return Similarity(
        character_ratio=round(fuzz.ratio(text_a, text_b) / 100, 6),
        word_order_insensitive_ratio=round(
            fuzz.ratio(" ".join(sorted(words_a)), " ".join(sorted(words_b))) / 100, 6
        ),
        word_jaccard=round(len(set_a & set_b) / len(union), 6) if union else 1.0,
        shared_words=[w for w in dict.fromkeys(words_a) if w in set_b][:20],
    )


@tool(toolkit="text", tags=["extract", "email", "url", "link", "number"])
def extract_entities(text: str, unique: bool = False) -> ExtractedEntities:
    """Extract email addresses, URLs and numbers from a text.

    Numbers may have a sign, thousands commas, decimals and an exponent ("1,234.5" -> 1234.5);
    digits inside emails and URLs are not reported as numbers.

    Args:
        text: The text to scan.
        unique: Report each email, URL and number only once.

    Returns:
        The emails, URLs and numbers in order of appearance.
    """
    emails = [m.group(0) for m in _EMAIL.finditer(text)]
    urls: list[str] = []
    masked = _EMAIL.sub(lambda m: " " * len(m.group(0)), text)
    for match in _URL.finditer(masked):
        url = match.group(0)
        # Trailing punctuation ends the sentence, not the URL; a closing parenthesis belongs to
        # the URL only if the URL opened one (Wikipedia-style links).
        while url[-1] in _URL_TRAILING or (url[-1] == ")" and url.count("(") < url.count(")")):
            url = url[:-1]
        urls.append(url)
    masked = _URL.sub(lambda m: " " * len(m.group(0)), masked)
    numbers: list[int | float] = []
    for match in _NUMBER.finditer(masked):
        literal = match.group(0).replace(",", "")
        is_int = not any(c in literal for c in ".eE")
        numbers.append(int(literal) if is_int else float(literal))
    if unique:
        emails, urls = list(dict.fromkeys(emails)), list(dict.fromkeys(urls))
        numbers = list(dict.fromkeys(numbers))
    return ExtractedEntities(emails=emails, urls=urls, numbers=numbers)
