"""Knowledge base of known errors: search used by self-help (P20) and Tier 2 (P22).

Search runs on the database's own full-text index (migration 0002): an FTS5 table kept in step
by triggers on SQLite, a generated ``tsvector`` column with a GIN index on PostgreSQL. Both index
``known_errors.search_text``, a normalised text computed in Python (:func:`fold`) because
neither SQLite's unicode61 tokenizer nor PostgreSQL's 'simple' configuration folds Turkish
dotted/dotless I (İ/I/ı/i). Queries go through the same normalisation. Ranking is the engine's
(bm25 / ts_rank) boosted by exact error-signature hits and the ticket's product and version.

Modules: :mod:`.normalise` (folding, tokens), :mod:`.signatures`, :mod:`.versions` (version
ranges), :mod:`.search_index` (keeping ``search_text`` current), :mod:`.search`,
:mod:`.entries` (records) and :mod:`.markdown_import` (Markdown files with YAML front matter).
"""

from .entries import FIELDS, ImportChange, entry_dict, existing_ids, list_entries, next_id, upsert
from .markdown_import import ID_RE, KBError, import_dir, parse_entry
from .normalise import STOPWORDS, fold, query_terms, tokens
from .search import MAX_QUERY_TERMS, KBMatch, search_known_errors
from .search_index import FTS_TABLE, reindex, search_text_for
from .signatures import looks_like_pattern, signature_hits, signature_list
from .versions import version_affected, version_fixed

__all__ = [
    "FIELDS",
    "FTS_TABLE",
    "ID_RE",
    "MAX_QUERY_TERMS",
    "STOPWORDS",
    "ImportChange",
    "KBError",
    "KBMatch",
    "entry_dict",
    "existing_ids",
    "fold",
    "import_dir",
    "list_entries",
    "looks_like_pattern",
    "next_id",
    "parse_entry",
    "query_terms",
    "reindex",
    "search_known_errors",
    "search_text_for",
    "signature_hits",
    "signature_list",
    "tokens",
    "upsert",
    "version_affected",
    "version_fixed",
]
