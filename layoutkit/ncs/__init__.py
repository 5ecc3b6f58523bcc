"""Agora's notifications (NCS webhooks) on this machine.

:mod:`.receiver` answers the callbacks and appends each body to a JSON-lines file, which
:func:`layoutkit.scenario.fromevents.rebuild` turns into a scenario.
"""

from .receiver import (
    MAX_BODY_BYTES,
    SIGNATURE_HEADER,
    EventLog,
    EventReceiver,
    signature_v2,
)

__all__ = ["MAX_BODY_BYTES", "SIGNATURE_HEADER", "EventLog", "EventReceiver", "signature_v2"]
