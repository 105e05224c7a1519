"""`python -m cdc.relay`: run the CDC relay in the foreground (the stack runs it under supervisord)."""
from __future__ import annotations

import logging
import os
import signal

from cdc import logging_json
from cdc.connector_config import ConnectorConfig
from cdc.relay.relay import Relay
from cdc.settings import CdcSettings


def main() -> None:
    logging_json.configure()
    settings = CdcSettings()
    connector = ConnectorConfig.load(settings.connector_file).with_overrides(
        slot_name=settings.slot_name, publication_name=settings.publication_name)
    relay = Relay(settings, connector)
    # The JVM runs with -Xrs, so these Python handlers own SIGTERM/SIGINT.
    signal.signal(signal.SIGTERM, relay.request_stop)
    signal.signal(signal.SIGINT, relay.request_stop)
    code = 0
    try:
        relay.run()
    except SystemExit as stop:
        code = int(stop.code or 0)
    except Exception:
        logging.getLogger("cdc.relay").exception("relay failed")
        code = 1
    # The engine is closed (offsets committed) or given up on (nothing unacknowledged was committed).
    # Skip JPype's JVM shutdown: it waits for non-daemon Kafka client threads that may hang while
    # the broker is down.
    logging.shutdown()
    os._exit(code)


if __name__ == "__main__":
    main()
