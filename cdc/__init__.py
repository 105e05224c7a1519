"""Change data capture for the VobeMusic monolith: Debezium connector config, the relay that runs
it against a Kafka-protocol broker, the consumer runtime services apply events with, and the
data-team CLI (`python -m cdc`)."""
