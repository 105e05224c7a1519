"""`python -m cdc.relay`: run the CDC relay in the foreground (the stack runs it under supervisord)."""
from __future__ import annotations

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
    relay.run()


if __name__ == "__main__":
    main()
