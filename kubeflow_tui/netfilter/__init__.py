"""netfilter: the iptables model of one host (tables, chains, rules), reading and
printing iptables text exactly as iptables 1.8.9 (nf_tables) does; beside it an nftables
table, the transaction that builds it and ``nft list ruleset`` as nftables 1.0.6 prints it.  Stdlib only."""

from __future__ import annotations

from typing import TYPE_CHECKING

from .errors import IptablesError
from .lazy import lazy_names
from .parse import parse_iptables_save, parse_rule_args
from .render import render_list, render_rule, render_rules_S, render_save
from .rules import (
    BUILTIN_CHAINS,
    TERMINAL_TARGETS,
    Chain,
    Match,
    Option,
    Rule,
    Ruleset,
    Table,
)

__all__ = [
    "parse_iptables_save",
    "parse_rule_args",
    "render_save",
    "render_rule",
    "render_rules_S",
    "render_list",
    "IptablesError",
    "Option",
    "Match",
    "Rule",
    "Chain",
    "Table",
    "Ruleset",
    "BUILTIN_CHAINS",
    "TERMINAL_TARGETS",
    "NftChain",
    "NftElement",
    "NftError",
    "NftRule",
    "NftSet",
    "NftTable",
    "Transaction",
    "table_as_transaction",
    "NftContext",
    "NftEvalError",
    "NftEvaluator",
    "NftHit",
    "NftOutcome",
    "NftParseError",
    "parse_nft_ruleset",
    "render_nft_ruleset",
    "render_nft_table",
]

#: the nftables half loads on first use (PEP 562): reading an iptables-save dump needs none of it
_NFT = {
    "NftChain": ".nft", "NftElement": ".nft", "NftError": ".nft", "NftRule": ".nft", "NftSet": ".nft",
    "NftTable": ".nft", "Transaction": ".nft", "table_as_transaction": ".nft",
    "render_nft_ruleset": ".nft_list", "render_nft_table": ".nft_list",
    "NftContext": ".nft_eval", "NftEvalError": ".nft_eval", "NftEvaluator": ".nft_eval", "NftHit": ".nft_eval",
    "NftOutcome": ".nft_eval",
    "NftParseError": ".nft_parse", "parse_nft_ruleset": ".nft_parse",
}

if TYPE_CHECKING:
    from .nft import NftChain, NftElement, NftError, NftRule, NftSet, NftTable, Transaction, table_as_transaction
    from .nft_eval import NftContext, NftEvalError, NftEvaluator, NftHit, NftOutcome
    from .nft_list import render_nft_ruleset, render_nft_table
    from .nft_parse import NftParseError, parse_nft_ruleset


__getattr__, __dir__ = lazy_names(__name__, _NFT, globals())
