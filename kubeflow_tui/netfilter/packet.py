"""A packet's headers as netfilter sees them.  Stdlib only."""

from __future__ import annotations

from dataclasses import dataclass, replace


@dataclass(frozen=True)
class Packet:
    src: str
    dst: str
    proto: str  # "tcp" | "udp" | "icmp"
    sport: int = 0
    dport: int = 0
    mark: int = 0  # the skb mark (MARK target, -m mark)
    flags: tuple[str, ...] = ()  # TCP flags, e.g. ("SYN",) or ("SYN", "ACK")
    ttl: int = 64  # IP time to live: each host that forwards the packet takes one off

    def with_(self, **changes) -> "Packet":
        return replace(self, **changes)

    def changed_fields(self, other: "Packet") -> tuple[str, ...]:
        """Header fields that differ between ``other`` (before) and self (after)."""
        names = ("src", "dst", "sport", "dport", "mark", "flags", "proto")
        return tuple(n for n in names if getattr(self, n) != getattr(other, n))

    def __str__(self) -> str:
        flags = f" [{','.join(self.flags)}]" if self.flags else ""
        if self.sport or self.dport:
            return f"{self.proto} {self.src}:{self.sport} -> {self.dst}:{self.dport}{flags}"
        return f"{self.proto} {self.src} -> {self.dst}{flags}"
