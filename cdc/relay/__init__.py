"""The CDC relay: Debezium's embedded Postgres connector (in-process JVM via JPype) feeding a
confluent-kafka producer; Debezium offsets advance only after the broker confirmed delivery."""
